"""The progress callback a running job calls: throttled row writes, and the cancel check.

A job calls `update_progress(processed, current=None)` as often as it likes; the row is
written at most once per PROGRESS_INTERVAL (the first call and the last item always), so
a million-item job costs a few hundred UPDATEs, not a million.
"""

import threading
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .events import announce_on_commit
from .exceptions import JobCancelled
from .models import Status, TaskInfo

CURRENT_ITEM_MAX_CHARS = 500
BATCH_LOG_LIMIT = 200  # batch entries kept on the row; older ones drop off


class ProgressReporter:
    """Callable progress callback bound to one running task."""

    def __init__(self, task_id, total_items: int, interval: float | None = None, clock=time.monotonic):
        self.task_id = task_id
        self.total_items = total_items
        self.interval = settings.STATUSMSG["PROGRESS_INTERVAL"] if interval is None else interval
        self.clock = clock
        self.writes = 0
        self.processed = 0
        self.current = None
        # Set by the heartbeat thread (or a write) when the row asks the job to stop.
        self.stop_requested = threading.Event()
        self._last_write_at: float | None = None
        self._unwritten = False

    def __call__(self, processed: int, current=None) -> None:
        # Record first: the job reported this item done even if it must stop now.
        self.processed = processed
        self.current = current
        if self.stop_requested.is_set():
            self._unwritten = True
            raise JobCancelled()
        now = self.clock()
        is_first = self._last_write_at is None
        is_last = self.total_items > 0 and processed >= self.total_items
        if is_first or is_last or now - self._last_write_at >= self.interval:
            self._write(now)
        else:
            self._unwritten = True

    def report_batch(self, batch_completed: int, total_batches: int, **info) -> None:
        """Record that a batch finished (kept in metadata["batches"]) and announce it."""
        entry = {"batch_completed": batch_completed, "total_batches": total_batches,
                 "at": timezone.now().isoformat(), **info}
        with transaction.atomic():
            task = TaskInfo.objects.select_for_update().get(pk=self.task_id)
            batches = (task.metadata.get("batches") or [])[-(BATCH_LOG_LIMIT - 1):] + [entry]
            TaskInfo.objects.filter(pk=self.task_id).update(
                metadata={**task.metadata, "batches": batches}, seq=F("seq") + 1
            )
            announce_on_commit(self.task_id, message_status="batch_update", **entry)

    def flush(self) -> None:
        """Write the latest progress if a throttled call left it unwritten."""
        if self._unwritten:
            self._write(self.clock(), check_cancel=False)

    def _write(self, now: float, check_cancel: bool = True) -> None:
        self._last_write_at = now
        self._unwritten = False
        self.writes += 1
        fields = {
            "processed_items": self.processed,
            "current_item": "" if self.current is None else str(self.current)[:CURRENT_ITEM_MAX_CHARS],
            "heartbeat_at": timezone.now(),
            "seq": F("seq") + 1,
        }
        if self.total_items:
            fields["progress"] = round(min(100.0, 100.0 * self.processed / self.total_items), 2)
        written = TaskInfo.objects.filter(pk=self.task_id, status=Status.RUNNING).update(**fields)
        if written:
            announce_on_commit(self.task_id)
        if not check_cancel:
            return
        # A row that is no longer running (reaped, or ended elsewhere) or that carries a
        # cancel request from another process stops the job here.
        cancel_requested = TaskInfo.objects.filter(pk=self.task_id, cancel_requested_at__isnull=False).exists()
        if not written or cancel_requested:
            self.stop_requested.set()
            raise JobCancelled()
