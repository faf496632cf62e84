"""The progress callback a running job calls: throttled row writes, and the cancel check.

A job calls `update_progress(processed, current=None)` as often as it likes; the row is
written at most once per PROGRESS_INTERVAL (the first call and the last item always), so
a million-item job costs a few hundred UPDATEs, not a million.
"""

import time

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from statusmsg.conf import app_settings

from . import lifecycle
from .announce import announce_on_commit
from .exceptions import JobCancelled
from .models import Status, TaskInfo

CURRENT_ITEM_MAX_CHARS = 500
BATCH_LOG_LIMIT = 200  # batch entries kept on the row; older ones drop off


def no_progress(processed: int, current=None) -> None:
    """Report nothing: the default callback when a job function is called outside the worker."""


def set_total(progress_callback, total_items: int) -> None:
    """Tell the task its item count, when the callback can (a plain function in a test need not)."""
    setter = getattr(progress_callback, "set_total", None)
    if setter is not None:
        setter(total_items)


def report_batch(progress_callback, batch_completed: int, total_batches: int, **info) -> None:
    """Record a finished batch on the task, when the callback can (see set_total)."""
    report = getattr(progress_callback, "report_batch", None)
    if report is not None:
        report(batch_completed, total_batches, **info)


class ProgressReporter:
    """The progress callback of one running task; jobs get its `update` function."""

    def __init__(self, task_id, total_items: int, interval: float | None = None, clock=time.monotonic,
                 owner=None):
        self.task_id = task_id
        # The task's owner, attached to each written row so its snapshot needs no query.
        self.owner = owner
        self.total_items = total_items
        self.interval = app_settings.PROGRESS_INTERVAL if interval is None else interval
        self.clock = clock
        self.writes = 0
        self.processed = 0
        self.current = None
        # Set (by the heartbeat thread, or by a write) when the row asks the job to stop.
        # A plain attribute, not an Event: the check sits on the per-item hot path.
        self.stop_requested = False
        self._next_write_at = float("-inf")  # the first call always writes
        self._last_item = total_items if total_items > 0 else float("inf")
        self._written = (None, None)  # (processed, current) as last written to the row
        # What the worker hands a job: a plain function (cheaper to call than the instance,
        # and this runs once per item) that also carries set_total and report_batch.
        self.update = self._make_update()

    def request_stop(self) -> None:
        self.stop_requested = True

    def _make_update(self):
        reporter = self

        def update_progress(processed: int, current=None) -> None:
            """Report processed items (and the current one); the old system's signature."""
            # Record first: the job reported this item done even if it must stop now.
            reporter.processed = processed
            reporter.current = current
            # The hot path: one clock read and a few comparisons, nothing else.
            if (processed < reporter._last_item and reporter.clock() < reporter._next_write_at
                    and not reporter.stop_requested):
                return
            if reporter.stop_requested:
                raise JobCancelled()
            reporter._write(reporter.clock())

        update_progress.set_total = self.set_total
        update_progress.report_batch = self.report_batch
        return update_progress

    def __call__(self, processed: int, current=None) -> None:
        self.update(processed, current)

    def set_total(self, total_items: int) -> None:
        """Set the item count of a job that learns it only while running (and write it)."""
        self.total_items = total_items
        self._last_item = total_items if total_items > 0 else float("inf")
        TaskInfo.objects.filter(pk=self.task_id, status=Status.RUNNING).update(
            total_items=total_items, seq=F("seq") + 1
        )
        announce_on_commit(self.task_id)

    def report_batch(self, batch_completed: int, total_batches: int, **info) -> None:
        """Record that a batch finished (kept in metadata["batches"]) and announce it."""
        entry = {"batch_completed": batch_completed, "total_batches": total_batches,
                 "at": timezone.now().isoformat(), **info}
        with transaction.atomic():
            task = TaskInfo.objects.select_for_update().get(pk=self.task_id)
            batches = [*(task.metadata.get("batches") or [])[-(BATCH_LOG_LIMIT - 1):], entry]
            TaskInfo.objects.filter(pk=self.task_id).update(
                metadata={**task.metadata, "batches": batches}, seq=F("seq") + 1
            )
            announce_on_commit(self.task_id, message_status="batch_update", **entry)

    def flush(self) -> None:
        """Write the latest progress if a throttled call left it unwritten."""
        if (self.processed, self.current) != self._written:
            self._write(self.clock(), check_cancel=False)

    def _write(self, now: float, check_cancel: bool = True) -> None:
        self._next_write_at = now + self.interval
        self._written = (self.processed, self.current)
        self.writes += 1
        fields = {
            "processed_items": self.processed,
            "current_item": "" if self.current is None else str(self.current)[:CURRENT_ITEM_MAX_CHARS],
        }
        if self.total_items:
            fields["progress"] = round(min(100.0, 100.0 * self.processed / self.total_items), 2)
        # One statement: the UPDATE hands back the row it wrote, which is both the cancel
        # check and the snapshot to announce.
        row = lifecycle.touch_running_task(self.task_id, **fields)
        if row is not None:
            if self.owner is not None:
                row.owner = self.owner
            announce_on_commit(self.task_id, row=row)
        if check_cancel and lifecycle.should_stop(row):
            self.request_stop()
            raise JobCancelled()
