"""The entry point django-q2 runs for every job: start, heartbeat, run, end the row.

Every way a job can end writes a final row (lifecycle's guard keeps the first one written):

- it returns: `completed`, or `cancelled` if a cancel was accepted meanwhile (lifecycle.finish_task);
- it raises JobCancelled (a cancel reached it): `cancelled`, keeping its partial_result;
- it raises any other Exception: `failed`, "Type: message";
- it runs past the queue's timeout (django-q2 raises TimeoutException, a SystemExit, from
  SIGALRM): `failed`, "Timed out after N s", partial_result kept; re-raised, so django-q2
  replaces the process;
- its worker is told to stop (SIGTERM/SIGINT, its cluster stopping or gone: see jobs.stopping):
  it is stopped at its next progress report (JobCancelled, as for a cancel), or after
  STOP_GRACE by WorkerStopped raised wherever it is; `failed`, "Worker stopped by signal",
  partial_result kept; then WorkerStopped ends the worker process instead of letting it take
  another job;
- its process dies (SIGKILL, out of memory): nothing here runs; the reaper fails the row once
  its heartbeat is STALE_AFTER old (`manage.py reap_tasks --loop`, and each worker's first job).

A stopped job is failed, not re-enqueued: a half-done job may have had effects that a second
run would repeat, and only its kind could say whether that is safe; the owner sees what was
done and can start it again. A job its worker had not started yet is re-enqueued instead, and
so is a group's chunk (its kind said it may run again by splitting; see jobs.groups), until it
has run STATUSMSG["CHUNK_ATTEMPTS"] times, as the reaper does with a lost one.

A job keeps what it did by attaching `partial_result` to whatever interrupts it; catching
BaseException (and re-raising) covers cancel, stop and timeout alike.

The final write outlives a lost database connection: it drops the broken connection, reconnects
and retries with backoff, within the 3 s django-q2 leaves a timed-out worker before killing it.
"""

import logging
import os
import signal
import time

from django.db import Error as DatabaseError
from django.dispatch import receiver
from django_q.exceptions import TimeoutException
from django_q.signals import post_execute_in_worker

from statusmsg import log_context

from . import lifecycle, queries, reaper
from .exceptions import JobCancelled, JobFailed
from .heartbeat import Heartbeat, drop_connection
from .models import FINAL_STATUSES, Status, TaskInfo
from .registry import get_task_kind
from .reporting import ProgressReporter
from .stopping import ClusterWatch, StopSignals, WorkerStopped

logger = logging.getLogger(__name__)

STOPPED_BY_SIGNAL = "Worker stopped by signal"
FINAL_WRITE_DELAYS = (0.1, 0.4, 1.0)  # seconds before each retry of the final write: 1.5 s in all
# Seconds a stopped job gets to reach its next progress report (a safe point, where it keeps its
# partial result) before WorkerStopped is raised wherever it is.
STOP_GRACE = 2.0
TIMEOUT_GRACE = 1.0  # the same after the queue's timeout; django-q2 kills the worker 3 s after it

_reaped_in: set[int] = set()  # worker processes that have reaped once


def run_task(task_id: str) -> str:
    """Run the job behind task_id to a final state; return that state."""
    with log_context.bound_task(task_id):  # every line logged meanwhile names the task (LOG_FORMAT=json)
        return _run_task(task_id)


def _run_task(task_id: str) -> str:
    task = queries.read_task(task_id)
    if task is None:
        logger.warning("task id=%s vanished before it ran", task_id)
        return "missing"
    cluster = ClusterWatch.of_this_process()
    if cluster is not None:
        stopping = cluster.stopping()
        if stopping:
            # Handed out before the cluster began to stop: leave it pending for the next one.
            lifecycle.requeue_task(task_id)
            if cluster.gone:
                raise WorkerStopped(stopping)  # no sentinel will ever send this worker a STOP
            return "requeued"
        _reap_at_cluster_start()
    if not lifecycle.start_task(task_id, owner=task.owner):
        # Cancelled while queued (or delivered twice): a job that is not pending never starts.
        logger.info("task id=%s not started status=%s", task_id, task.status)
        return "not-started"
    return _run_started(task, cluster)


def _run_started(task: TaskInfo, cluster: ClusterWatch | None) -> str:
    task_id = str(task.pk)
    # Every write of this run names its attempt: a run the reaper gave up on (a chunk queued
    # again) then writes nothing over the next one (jobs.statements.this_run).
    # in_group: a chunk's progress writes also add to its group, in one transaction; others stay one UPDATE.
    reporter = ProgressReporter(task_id, task.total_items, owner=task.owner, attempt=task.attempt,
                                in_group=task.parent_id is not None)
    signals = StopSignals(on_stop=reporter.request_stop, grace=STOP_GRACE)
    heartbeat = Heartbeat.of_this_process()
    interruption = None
    # In a cluster, the timeout's alarm too: a timed-out job then stops at a progress report.
    signals.install(timeout_grace=TIMEOUT_GRACE if cluster is not None else None)
    heartbeat.add(task_id, on_stop_requested=reporter.request_stop, cluster=cluster,
                  on_cluster_stopping=signals.stop_from_thread, attempt=task.attempt)
    try:
        try:
            signals.arm()
            result = get_task_kind(task.kind).function(progress_callback=reporter.update, **task.params)
        finally:
            signals.disarm()
            if cluster is not None:
                signal.alarm(0)  # the job is over: django-q2's timeout must not cut the final write short
    except BaseException as exc:  # noqa: BLE001 - every ending writes its row; BaseExceptions are re-raised below
        status, error = _ending_of(exc, task, stopped_by=signals.reason, timed_out=signals.timed_out)
        interruption = _to_reraise(exc, signals.timed_out, error)
        if not isinstance(exc, Exception) or isinstance(exc, DatabaseError):
            # The connection may be broken, or was interrupted mid-query: start the final write afresh.
            drop_connection()
        if error == STOPPED_BY_SIGNAL and _run_chunk_again(task):
            final = "requeued"
        else:
            final = _end(task, status, reporter, result=getattr(exc, "partial_result", None), error=error)
    else:
        final = _end(task, Status.COMPLETED, reporter, result=result)
        logger.info("task id=%s returned writes=%s", task_id, reporter.writes)
    finally:
        heartbeat.remove(task_id)  # before restore(): no stop may reach the job once its handlers are gone
        signals.restore()
    if interruption is not None:
        raise interruption
    if signals.reason is not None:
        raise WorkerStopped(signals.reason)  # told to stop as the job returned: take no next job
    return final or _status_of(task_id, default=Status.FAILED)


@receiver(post_execute_in_worker, dispatch_uid="jobs.worker.keep_no_queue_result")
def keep_no_queue_result(sender, func, task: dict, **kwargs) -> None:
    """Tell django-q2 not to save the queue result of a job whose own row has ended: the row is its record.

    Saving one costs the cluster's one monitor process, per job, a SELECT … FOR UPDATE of every
    result kept (up to save_limit rows, for its pruning), a SELECT, an INSERT and a second DELETE:
    more than the job's own rows cost, and the monitor paces the whole cluster. Unsaved, the
    queue item is still acknowledged (deleted). The rare other outcomes ("not-started",
    "requeued", "missing", a crash) keep their result, for whoever looks into them.
    """
    if func is run_task and task.get("success") and task.get("result") in FINAL_STATUSES:
        task["save"] = False


def _ending_of(exc: BaseException, task: TaskInfo, stopped_by: str | None, timed_out: bool) -> tuple[Status, str]:
    """Return the final status and error for a job that raised exc, and log it.

    A stop or a timeout honoured at a progress report arrives as the reporter's JobCancelled.
    """
    task_id = task.pk
    if isinstance(exc, TimeoutException) or (isinstance(exc, JobCancelled) and timed_out):
        timeout = get_task_kind(task.kind).effective_timeout
        logger.warning("task id=%s timed out after %s s", task_id, timeout)
        return Status.FAILED, f"Timed out after {timeout} s"
    if isinstance(exc, WorkerStopped) or (isinstance(exc, JobCancelled) and stopped_by):
        logger.warning("task id=%s stopped: %s", task_id, stopped_by or exc.reason)
        return Status.FAILED, STOPPED_BY_SIGNAL
    if isinstance(exc, JobCancelled):
        logger.info("task id=%s cancelled", task_id)
        return Status.CANCELLED, lifecycle.CANCELLED_ON_REQUEST
    if isinstance(exc, JobFailed):  # the job's own verdict, worded for people: no class name
        logger.warning("task id=%s failed as a whole: %s", task_id, exc)
        return Status.FAILED, str(exc)
    if isinstance(exc, Exception):
        logger.exception("task id=%s failed", task_id)
        return Status.FAILED, f"{type(exc).__name__}: {exc}"
    logger.warning("task id=%s interrupted by %s", task_id, type(exc).__name__)
    return Status.FAILED, f"Interrupted: {type(exc).__name__}"


def _run_chunk_again(task: TaskInfo) -> bool:
    """Queue a group's chunk stopped with its worker again, as the reaper does a lost one; False if it may not
    (not a chunk, its last attempt, its group cancelled): it then ends failed, its items counted as failed."""
    if task.parent_id is None:
        return False
    try:
        return lifecycle.run_chunk_again(str(task.pk), STOPPED_BY_SIGNAL, attempt=task.attempt)
    except DatabaseError:
        logger.exception("task id=%s could not be queued again; ending it", task.pk)
        drop_connection()
        return False


def _to_reraise(exc: BaseException, timed_out: bool, error: str) -> BaseException | None:
    """Return what run_task raises once the row is written: None for a job's own errors and cancels."""
    if timed_out and isinstance(exc, JobCancelled):
        return TimeoutException(error)  # django-q2 must still see the timeout: it replaces the process
    return None if isinstance(exc, Exception) else exc


def _end(task: TaskInfo, status: Status, reporter: ProgressReporter, *, result=None, error: str = "") -> str | None:
    """Write the final row, reconnecting and retrying while the database connection is lost.

    Return the status written (cancelled where a cancel was accepted), or None when the row had
    ended elsewhere or could not be written.
    """
    task_id = str(task.pk)
    try:
        reporter.flush()
    except DatabaseError as exc:  # the final write below carries processed_items anyway
        logger.warning("task id=%s last progress not written: %s", task_id, exc)
        drop_connection()
    for try_number, delay in enumerate((0.0, *FINAL_WRITE_DELAYS), start=1):
        if delay:
            time.sleep(delay)
        try:
            row = lifecycle.end_task(task_id, status, result=result, error=error,
                                     processed_items=reporter.processed, owner=task.owner, attempt=task.attempt)
            return row.status if row is not None else None
        except DatabaseError as exc:
            logger.warning("task id=%s final write failed try=%s: %s", task_id, try_number, exc)
            drop_connection()
        except Exception as exc:  # e.g. a result JSON cannot hold: the row must still end
            logger.exception("task id=%s final write refused", task_id)
            return _end_without_result(task, reporter, exc)
    logger.error("task id=%s final status=%s not written; the reaper will end the row", task_id, status)
    return None


def _end_without_result(task: TaskInfo, reporter: ProgressReporter, refused: Exception) -> str | None:
    """End the row failed, with why its own ending could not be stored (its result dropped)."""
    try:
        row = lifecycle.end_task(str(task.pk), Status.FAILED, processed_items=reporter.processed, owner=task.owner,
                                 error=f"The job's ending could not be stored: {type(refused).__name__}: {refused}",
                                 attempt=task.attempt)
    except DatabaseError:
        logger.exception("task id=%s final write failed; the reaper will end the row", task.pk)
        return None
    return row.status if row is not None else None


def _status_of(task_id: str, default: str) -> str:
    try:
        return TaskInfo.objects.values_list("status", flat=True).get(pk=task_id)
    except DatabaseError:
        return default


def _reap_at_cluster_start() -> None:
    """Reap once per worker process, at its first job: rows a dead cluster left running end now."""
    if os.getpid() in _reaped_in:
        return
    _reaped_in.add(os.getpid())
    try:
        reaped = reaper.reap_stale_tasks()
    except Exception:  # the job matters more than this early reap; the reaper loop retries
        logger.exception("reaping at worker start failed")
        return
    if reaped:
        logger.warning("reaped %s stale tasks at worker start", reaped)
