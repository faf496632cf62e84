"""A bounded work queue: N worker threads, backpressure on the feeder, a deadline per item.

Items flow feeder -> bounded queue -> workers -> outcomes. The feeder blocks while the queue
is full (backpressure, never an error), so at most max_queue_size items wait at any time.
Outcomes are yielded to the caller's thread, which alone touches the database and the
progress callback (neither is shared across threads). A stop request is honoured between
items: workers take no new item once it is set.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from statusmsg.conf import app_settings

logger = logging.getLogger(__name__)

_DONE = object()


@dataclass
class Outcome:
    item: Any
    value: Any = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class AnalysisQueue:
    """Run work(item, deadline) over items with bounded concurrency and a bounded backlog."""

    def __init__(
        self,
        work: Callable[[Any, float], Any],
        max_concurrent: int | None = None,
        max_queue_size: int | None = None,
        item_timeout: float | None = None,
        expected_errors: tuple[type[BaseException], ...] = (),
    ):
        self.work = work
        self.max_concurrent = max(1, int(max_concurrent or app_settings.ANALYSIS_MAX_CONCURRENT))
        self.max_queue_size = max(1, int(max_queue_size or app_settings.ANALYSIS_QUEUE_SIZE))
        self.item_timeout = float(item_timeout or app_settings.ANALYSIS_ITEM_TIMEOUT)
        self.expected_errors = expected_errors
        self.peak_queue_size = 0
        self._pending: queue.Queue = queue.Queue(maxsize=self.max_queue_size)
        # Bounded too: finished analyses (whole article texts) wait here only while the
        # caller's thread is saving; a slow database holds the workers back instead.
        self._outcomes: queue.Queue = queue.Queue(maxsize=self.max_queue_size)
        self._stop = threading.Event()
        self._size_lock = threading.Lock()

    def stop(self) -> None:
        """Take no new item; items already running finish (or time out) on their own."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self, items: Iterable) -> Iterator[Outcome]:
        """Yield one Outcome per item, in completion order, until all are done or stop() is called."""
        feeder = threading.Thread(target=self._feed, args=(iter(items),), name="analysis-feeder", daemon=True)
        workers = [threading.Thread(target=self._serve, name=f"analysis-worker-{n}", daemon=True)
                   for n in range(self.max_concurrent)]
        feeder.start()
        for worker in workers:
            worker.start()
        running = len(workers)
        try:
            while running:
                outcome = self._outcomes.get()
                if outcome is _DONE:
                    running -= 1
                    continue
                yield outcome
        finally:
            # The caller stopped early (cancel, error): let the threads wind down.
            self._stop.set()
            self._drain()

    def _feed(self, items: Iterator) -> None:
        try:
            for item in items:
                while not self._stop.is_set():
                    try:
                        # Blocks while the queue is full: backpressure on whoever produces items.
                        self._pending.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    break
                with self._size_lock:
                    self.peak_queue_size = max(self.peak_queue_size, self._pending.qsize())
        finally:
            for _ in range(self.max_concurrent):
                self._put_sentinel()

    def _put_sentinel(self) -> None:
        while True:
            try:
                self._pending.put(_DONE, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set():
                    self._drain()

    def _drain(self) -> None:
        """Drop the items still waiting (after a stop) so sentinels can get through."""
        while True:
            try:
                item = self._pending.get_nowait()
            except queue.Empty:
                return
            if item is _DONE:
                # A worker still needs it to finish; put it back and leave.
                self._pending.put_nowait(item)
                return

    def _serve(self) -> None:
        try:
            while True:
                item = self._pending.get()
                if item is _DONE:
                    return
                if self._stop.is_set():
                    continue  # stop honoured between items: skip, and wait for our sentinel
                self._offer(self._run_one(item))
        finally:
            self._offer(_DONE)

    def _offer(self, outcome) -> None:
        """Hand an outcome to the caller; dropped once stopped (the caller no longer reads)."""
        while True:
            try:
                self._outcomes.put(outcome, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set():
                    return

    def _run_one(self, item) -> Outcome:
        """Run work on item in its own thread, so a stuck item costs its deadline and no more."""
        started = time.monotonic()
        deadline = started + self.item_timeout
        box: dict = {}
        finished = threading.Event()

        def target():
            try:
                box["value"] = self.work(item, deadline)
            except self.expected_errors as exc:
                box["error"] = str(exc) or type(exc).__name__
            except Exception as exc:  # an unexpected bug fails the item, with its type, not the job
                logger.exception("analysis item failed unexpectedly item=%r", item)
                box["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                finished.set()

        threading.Thread(target=target, name="analysis-item", daemon=True).start()
        if not finished.wait(self.item_timeout):
            # The thread is abandoned; the fetch inside it has its own deadline and ends soon.
            return Outcome(item, error=f"timed out after {self.item_timeout:g}s", seconds=time.monotonic() - started)
        return Outcome(item, value=box.get("value"), error=box.get("error"), seconds=time.monotonic() - started)
