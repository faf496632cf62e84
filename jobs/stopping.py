"""How a running job learns that its worker must stop: a signal, its cluster stopping, or its cluster gone.

django-q2 (1.11) stops a cluster only between jobs: on SIGTERM/SIGINT its main process tells
the sentinel to stop, and the sentinel queues STOP pills and waits, for ever, for busy workers
to finish. A worker process inherits the sentinel's dispositions (SIGTERM kills it on the spot,
SIGINT is ignored), so neither path ever ends the job's row. While a job runs, this module
turns each of them into a stop of the job (at its next progress report, or within a grace by
WorkerStopped raised inside it), so the worker writes the final row and exits in a second or two:

- SIGTERM or SIGINT sent to the worker itself (a signal to the cluster's process group, or
  Ctrl-C in its terminal) runs StopSignals' handler in the job's thread;
- a signal to the cluster's main process alone sets the cluster's stop event, which the
  heartbeat thread polls (ClusterWatch) and passes on as a SIGTERM to the job's thread;
- a sentinel that died (its worker was re-parented) is treated the same way: nobody would ever
  hand this worker a STOP pill, so it must end its job and exit by itself.
"""

import logging
import os
import signal
import sys
import threading

from django_q.exceptions import TimeoutException

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WorkerStopped(SystemExit):
    """Raised inside a running job when its worker must stop; the job may attach partial_result.

    A SystemExit, so a job's `except Exception` does not swallow it, and django-q2's worker
    loop (which catches only Exception and its own timeout) lets it end the worker process.
    """

    def __init__(self, reason: str):
        super().__init__()  # exit status 0: stopping on request is not a crash
        self.reason = reason
        self.partial_result = None


class StopSignals:
    """SIGTERM/SIGINT handlers for the length of one job: stop it at a safe point, or after a grace.

    A stop first asks the job to stop at its next progress report (on_stop: the reporter then
    raises JobCancelled, where jobs keep their partial result); a job that has not stopped
    within `grace` seconds gets WorkerStopped raised wherever it is (a job that reports no
    progress, or one blocked on a slow item). Only the main thread can own signal handlers;
    elsewhere (tests run jobs in threads) this does nothing, and such a job ends by the reaper.
    """

    def __init__(self, on_stop=None, grace: float = 2.0):
        self.reason: str | None = None  # why the worker must stop, once known
        self.on_stop = on_stop
        self.grace = grace
        self._armed = False
        self._forced = False  # the grace is over: raise wherever the job is
        self._timer: threading.Timer | None = None
        self.timed_out = False  # the queue's timeout came (and the job was asked to stop)
        self._timeout_grace = 0.0
        self._previous: dict[int, object] = {}
        self._main_thread = threading.current_thread() is threading.main_thread()

    def install(self, timeout_grace: float | None = None) -> None:
        """Take SIGTERM and SIGINT; with timeout_grace, django-q2's timeout alarm (SIGALRM) too.

        django-q2 raises its TimeoutException from SIGALRM wherever the job is, past the
        job's `except JobCancelled` that keeps a partial result. Taken over, the alarm first
        asks the job to stop at its next progress report, and raises TimeoutException only
        timeout_grace seconds later (django-q2 kills the process 3 s after the alarm).
        """
        if not self._main_thread:
            return
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        if timeout_grace is not None:
            self._timeout_grace = timeout_grace
            self._previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._handle_alarm)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def arm(self) -> None:
        """Let a stop interrupt the job from now on (at once, if one came before it began)."""
        self._armed = True
        if self.reason is not None:
            self._raise()

    def disarm(self) -> None:
        """Stop interrupting: the job is over, and its final row is being written."""
        self._armed = False
        if self._timer is not None:
            self._timer.cancel()

    def stop_from_thread(self, reason: str) -> None:
        """Stop the job as a signal would; called from the heartbeat thread."""
        if self.reason is not None or not self._previous:
            return
        self.reason = reason
        self._signal_job()

    def _handle(self, signum, frame) -> None:
        if self.reason is None:
            self.reason = f"signal {signal.Signals(signum).name}"
        if not self._armed:
            return
        if self._forced or self.on_stop is None:
            self._raise()
        if self._timer is None:
            self.on_stop()
            self._timer = threading.Timer(self.grace, self._force)
            self._timer.daemon = True
            self._timer.start()

    def _handle_alarm(self, signum, frame) -> None:
        if not self._armed:
            return
        if self.timed_out or self.on_stop is None:
            self._armed = False
            raise TimeoutException("the job ran past its timeout")
        self.timed_out = True
        self.on_stop()
        signal.setitimer(signal.ITIMER_REAL, self._timeout_grace)

    def _force(self) -> None:
        self._forced = True
        self._signal_job()

    def _signal_job(self) -> None:
        # A real signal aimed at the job's thread, not _thread.interrupt_main(): only a signal
        # interrupts a job blocked in sleep() or a socket read (EINTR) so the handler runs now.
        if self._armed:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)

    def _raise(self) -> None:
        # Once only: a second signal must not break the final write that the first one started.
        self._armed = False
        raise WorkerStopped(self.reason)


class ClusterWatch:
    """Whether the django-q2 cluster that runs this worker process is stopping, or gone."""

    def __init__(self, stop_event, parent_pid: int):
        self.stop_event = stop_event
        self.parent_pid = parent_pid

    @classmethod
    def of_this_process(cls) -> "ClusterWatch | None":
        """Return the watch for this worker's cluster; None outside a django-q2 worker."""
        pid = os.getpid()
        if pid not in _watches:
            stop_event = _sentinel_stop_event()
            _watches[pid] = None if stop_event is None else cls(stop_event, os.getppid())
        return _watches[pid]

    @property
    def gone(self) -> bool:
        """Whether the sentinel that forked this worker has died (the worker was re-parented)."""
        return os.getppid() != self.parent_pid

    def stopping(self) -> str | None:
        """Return why this worker must stop (its cluster is stopping or gone), or None."""
        # The parent first: a sentinel killed while it held the event's internal lock would
        # make is_set() block for ever.
        if self.gone:
            return "cluster gone (its sentinel process died)"
        if _is_set(self.stop_event):
            return "cluster stopping"
        return None


def _is_set(event) -> bool:
    """Read a multiprocessing Event without taking its lock, where the platform allows.

    Event.is_set() takes a lock shared with the sentinel and the main process: a worker
    killed while holding it would wedge both for good. Its semaphore's value is the same
    fact, read lock-free (sem_getvalue; not on macOS, which falls back to is_set()).
    """
    try:
        return event._flag.get_value() > 0
    except (AttributeError, NotImplementedError):
        return event.is_set()


_watches: dict[int, ClusterWatch | None] = {}  # per process id: a forked worker finds its own


def _sentinel_stop_event():
    """Return the stop event of the Sentinel this process was forked from, or None.

    django-q2 gives a worker no handle on it, but forks each worker from inside the
    Sentinel's own methods, so the Sentinel is still on this process's call stack.
    """
    try:
        from django_q.cluster import Sentinel
    except ImportError:  # pragma: no cover - django-q2 is a dependency
        return None
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, Sentinel):
            return getattr(owner, "stop_event", None)
        frame = frame.f_back
    return None
