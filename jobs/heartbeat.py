"""The heartbeat of running jobs: one thread per worker process beats every job it runs.

A running row whose heartbeat goes stale is reaped (jobs.reaper), so one slow item must not make
a live job look dead; the beat is also how a job that reports no progress learns of a cancel
request, and how a job hears that its cluster is stopping.
"""

import logging
import os
import threading
import time

from django.db import Error as DatabaseError
from django.db import close_old_connections, connection

from statusmsg.conf import app_settings

from . import lifecycle
from .stopping import ClusterWatch

logger = logging.getLogger(__name__)

STOP_POLL_INTERVAL = 0.25  # seconds between the heartbeat thread's looks at its cluster


def drop_connection() -> None:
    """Close this thread's database connection (it may be broken); the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        logger.debug("closing a broken connection failed", exc_info=True)


class Heartbeat(threading.Thread):
    """This worker process's one heartbeat thread: it beats every job the process runs.

    For each job added (until it is removed) it refreshes heartbeat_at every HEARTBEAT_INTERVAL,
    passes on a cancel request the beat finds on the row, and watches the cluster (every
    STOP_POLL_INTERVAL) to pass on its stop. One slow item must not make a live job look dead to
    the reaper, a job that reports no progress must still learn that someone asked it to stop,
    and a cluster told to stop must not wait for a long job to finish.

    One thread per process, started with its first job, rather than one per job: a job that ends
    before its first beat (most of them) then costs no thread start, join or connection. Between
    jobs it sleeps without a timeout, and closes its connection.
    """

    def __init__(self):
        super().__init__(name="heartbeat", daemon=True)
        # The running jobs by task id. The lock guards them and is held while a job's callback
        # runs, so that once remove() returns no callback of that job runs any more (its stop
        # signals are restored next, and a SIGTERM sent after that would kill the worker).
        self._jobs: dict[str, _BeatingJob] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake_at = float("inf")  # when the thread, waiting, will next look (monotonic)
        self._connected = False  # whether a beat may have opened this thread's connection

    @classmethod
    def of_this_process(cls) -> "Heartbeat":
        """Return this process's heartbeat thread, started on first use (a forked worker starts its own)."""
        pid = os.getpid()
        with _heartbeats_lock:
            heartbeat = _heartbeats.get(pid)
            if heartbeat is None or not heartbeat.is_alive():
                heartbeat = _heartbeats[pid] = cls()
                heartbeat.start()
            return heartbeat

    def add(self, task_id: str, on_stop_requested, cluster: ClusterWatch | None = None,
            on_cluster_stopping=None, attempt: int | None = None) -> None:
        """Beat task_id (its run attempt, when given) from now on: its first beat is one
        HEARTBEAT_INTERVAL away (start_task wrote one)."""
        interval = app_settings.HEARTBEAT_INTERVAL
        job = _BeatingJob(task_id, interval, on_stop_requested, cluster, on_cluster_stopping, attempt)
        with self._lock:
            self._jobs[task_id] = job
            if job.next_look() < self._wake_at:  # e.g. the first job after an idle spell
                self._changed.notify()

    def remove(self, task_id: str) -> None:
        """Stop beating task_id; once this returns, none of its callbacks runs any more."""
        with self._lock:
            self._jobs.pop(task_id, None)
            if not self._jobs and self._connected:
                self._changed.notify()  # idle now: let the thread close its connection

    def run(self) -> None:
        while True:
            try:
                self._run_once()
            except Exception:  # a bug here must not end the beats of every later job of this process
                logger.exception("heartbeat loop failed")
                time.sleep(STOP_POLL_INTERVAL)

    def _run_once(self) -> None:
        with self._lock:
            idle = not self._jobs
        if idle and self._connected:
            self._connected = False
            connection.close()  # this thread's own connection, opened by a beat
        with self._lock:
            while not self._jobs:
                self._wake_at = float("inf")
                self._changed.wait()
            self._wake_at = min(job.next_look() for job in self._jobs.values())
            delay = self._wake_at - time.monotonic()
            if delay > 0:
                self._changed.wait(delay)  # add() wakes it sooner for a job due sooner
            now = time.monotonic()
            watched = [job for job in self._jobs.values() if job.cluster is not None]
            due = [job for job in self._jobs.values() if job.next_beat <= now]
            for job in due:
                job.next_beat = now + job.interval
        for job in watched:
            self._watch_cluster(job)
        if due:
            self._connected = True
            close_old_connections()
            for job in due:
                self._beat(job)

    def _watch_cluster(self, job: "_BeatingJob") -> None:
        reason = job.cluster.stopping()
        if reason:
            with self._lock:
                if self._jobs.get(job.task_id) is job and job.cluster is not None:
                    logger.warning("task id=%s must stop: %s", job.task_id, reason)
                    job.cluster = None  # tell the job once
                    job.on_cluster_stopping(reason)

    def _beat(self, job: "_BeatingJob") -> None:
        try:
            row = lifecycle.touch_running_task(job.task_id, attempt=job.attempt)
        except Exception as exc:  # a lost beat is retried next time; the job goes on
            logger.exception("heartbeat failed task id=%s", job.task_id)
            if isinstance(exc, DatabaseError):
                drop_connection()  # a broken connection would fail every later beat too
            return
        if lifecycle.should_stop(row):
            with self._lock:
                if self._jobs.get(job.task_id) is job:
                    job.on_stop_requested()


class _BeatingJob:
    """One running job as the heartbeat thread sees it: when to beat it, and whom to tell what."""

    __slots__ = ("attempt", "cluster", "interval", "next_beat", "on_cluster_stopping", "on_stop_requested", "task_id")

    def __init__(self, task_id: str, interval: float, on_stop_requested, cluster, on_cluster_stopping,
                 attempt: int | None = None):
        self.task_id = task_id
        self.attempt = attempt
        self.interval = interval
        self.next_beat = time.monotonic() + interval
        self.on_stop_requested = on_stop_requested
        self.cluster = cluster
        self.on_cluster_stopping = on_cluster_stopping

    def next_look(self) -> float:
        """Return when the heartbeat thread must next look at this job: its beat, or its cluster."""
        if self.cluster is None:
            return self.next_beat
        return min(self.next_beat, time.monotonic() + min(self.interval, STOP_POLL_INTERVAL))


_heartbeats: dict[int, Heartbeat] = {}  # per process id: a forked worker starts its own
_heartbeats_lock = threading.Lock()
