"""The progress callback a running job calls: throttled row writes, and the cancel check.

A job calls `update_progress(processed, current=None)` as often as it likes; the row is
written at most once per PROGRESS_INTERVAL (the first call and the last item always), so
a million-item job costs a few hundred UPDATEs, not a million.
"""

import math
import time
from contextlib import nullcontext

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


# The clock is read every few calls, not on every one: a read costs more than the rest of a
# throttled call. How many calls go between reads adapts to the job's pace, so the reads come
# about CLOCK_CHECKS_PER_INTERVAL times per interval, and every call when calls are slow.
CLOCK_CHECKS_PER_INTERVAL = 4
MAX_CALLS_BETWEEN_CLOCK_CHECKS = 32


class ProgressReporter:
    """The progress callback of one running task; jobs get its `update` function."""

    def __init__(self, task_id, total_items: int, interval: float | None = None, clock=time.monotonic,
                 owner=None, in_group: bool | None = None, attempt: int | None = None):
        self.task_id = task_id
        # The run of the task this reporter writes for (jobs.statements.this_run); None: whatever run.
        self.attempt = attempt
        # The task's owner, attached to each written row so its snapshot needs no query.
        self.owner = owner
        # Whether the task is a chunk of a group (see _write); None: learned from its first write.
        self.in_group = in_group
        self.total_items = total_items
        self.interval = app_settings.PROGRESS_INTERVAL if interval is None else interval
        self.clock = clock
        self.writes = 0
        # Set (by the heartbeat thread, or by a write) when the row asks the job to stop.
        self.stop_requested = False
        # (processed, current) as last written to the row; a new row holds (0, nothing), so a
        # job that reports nothing costs no progress write at its end (finish_task writes the count).
        self._written = (0, None)
        # What the worker hands a job: a plain function (cheaper to call than the instance,
        # and this runs once per item) that also carries set_total and report_batch.
        self.update = self._make_update()

    @property
    def processed(self) -> int:
        """The processed count the job last reported."""
        return self._latest()[0]

    @property
    def current(self):
        """The current item the job last reported."""
        return self._latest()[1]

    def request_stop(self) -> None:
        """Make the job's next call raise JobCancelled (called from the heartbeat thread too)."""
        self.stop_requested = True
        self._check_next_call()

    def _make_update(self):
        # The hot path's state lives in this closure's cells, not on the instance: a cell is
        # cheaper to read and write than an attribute, and this runs once per item.
        reporter = self
        clock = self.clock
        interval = self.interval
        latest_processed, latest_current = 0, None
        last_item = self.total_items if self.total_items > 0 else float("inf")
        calls_left = 1  # calls until the next clock check; the first call checks (and writes)
        calls_per_check = 1
        checked_at = None  # when the clock was last read
        next_write_at = float("-inf")

        def update_progress(processed: int, current=None) -> None:
            """Report processed items (and the current one); the old system's signature."""
            nonlocal latest_processed, latest_current, calls_left
            # Record first: the job reported this item done even if it must stop now.
            latest_processed = processed
            latest_current = current
            calls_left -= 1
            # The hot path: a countdown and one comparison, nothing else.
            if calls_left and processed < last_item:
                return
            check(processed)

        def check(processed: int) -> None:
            nonlocal calls_left, calls_per_check, checked_at, next_write_at
            calls_made = calls_per_check - calls_left
            calls_left = 1  # until the pace is known below; a call after a JobCancelled raises again
            if reporter.stop_requested:
                raise JobCancelled()
            now = clock()
            if interval <= 0 or checked_at is None:
                calls_per_check = 1  # no pace known yet (or every call may write)
            else:
                # Aim for CLOCK_CHECKS_PER_INTERVAL reads per interval at the pace just seen, at
                # most doubling at a time, so one quick stretch does not set a long countdown.
                elapsed = now - checked_at
                wanted = calls_made * interval / (CLOCK_CHECKS_PER_INTERVAL * elapsed) if elapsed > 0 else math.inf
                calls_per_check = max(1, int(min(MAX_CALLS_BETWEEN_CLOCK_CHECKS, 2 * calls_made, wanted)))
            checked_at = now
            calls_left = calls_per_check
            if processed >= last_item or now >= next_write_at:
                next_write_at = now + interval
                reporter._write()

        def check_next_call() -> None:
            # Runs in the heartbeat thread too. Should this store be lost to the job thread's
            # own decrement (a one-bytecode window), the stop still lands within
            # MAX_CALLS_BETWEEN_CLOCK_CHECKS calls, and the next beat requests it again.
            nonlocal calls_left
            calls_left = 1

        def set_last_item(total_items: int) -> None:
            nonlocal last_item
            last_item = total_items if total_items > 0 else float("inf")

        def latest() -> tuple:
            return latest_processed, latest_current

        self._check_next_call = check_next_call
        self._set_last_item = set_last_item
        self._latest = latest
        update_progress.set_total = self.set_total
        update_progress.report_batch = self.report_batch
        return update_progress

    def __call__(self, processed: int, current=None) -> None:
        self.update(processed, current)

    def set_total(self, total_items: int) -> None:
        """Set the item count of a job that learns it only while running (and write it)."""
        self.total_items = total_items
        self._set_last_item(total_items)
        if TaskInfo.objects.filter(pk=self.task_id, status=Status.RUNNING).update(
            total_items=total_items, seq=F("seq") + 1
        ):
            announce_on_commit(self.task_id)

    def report_batch(self, batch_completed: int, total_batches: int, **info) -> None:
        """Record that a batch finished (kept in metadata["batches"]) and announce it."""
        entry = {"batch_completed": batch_completed, "total_batches": total_batches,
                 "at": timezone.now().isoformat(), **info}
        with transaction.atomic():
            # Only a running row: a batch reported after the row ended (reaped, cancelled) must
            # not touch a final state or be announced after its final message.
            task = TaskInfo.objects.select_for_update().filter(pk=self.task_id, status=Status.RUNNING).first()
            if task is None:
                return
            batches = [*(task.metadata.get("batches") or [])[-(BATCH_LOG_LIMIT - 1):], entry]
            TaskInfo.objects.filter(pk=self.task_id).update(
                metadata={**task.metadata, "batches": batches}, seq=F("seq") + 1
            )
            announce_on_commit(self.task_id, message_status="batch_update", **entry)

    def flush(self) -> None:
        """Write the latest progress if a throttled call left it unwritten."""
        if self._latest() != self._written:
            self._write(check_cancel=False)

    def _write(self, check_cancel: bool = True) -> None:
        already_written = self._written[0]
        processed, current = self._written = self._latest()
        self.writes += 1
        fields = {
            "processed_items": processed,
            "current_item": "" if current is None else str(current)[:CURRENT_ITEM_MAX_CHARS],
        }
        if self.total_items:
            fields["progress"] = round(min(100.0, 100.0 * processed / self.total_items), 2)
        # One statement: the UPDATE hands back the row it wrote, which is both the cancel
        # check and the snapshot to announce. A chunk of a group adds its new items to its parent
        # in the same transaction, so a recount of the group (jobs.lifecycle.settle_group) sees
        # both writes or neither, and never counts the new items twice.
        with transaction.atomic() if self.in_group is not False else nullcontext():
            row = lifecycle.touch_running_task(self.task_id, owner=self.owner, attempt=self.attempt, **fields)
            if row is not None:
                announce_on_commit(self.task_id, row=row)
                self.in_group = row.parent_id is not None
                lifecycle.add_group_progress(row, processed - already_written, owner=self.owner)
        if check_cancel and lifecycle.should_stop(row):
            self.request_stop()
            raise JobCancelled()
