"""The entry point django-q2 runs for every job: start, heartbeat, run, end the row."""

import logging
import threading

from django.db import close_old_connections, connection

from statusmsg.conf import app_settings

from . import lifecycle
from .exceptions import JobCancelled
from .models import Status, TaskInfo
from .registry import get_task_kind
from .reporting import ProgressReporter

logger = logging.getLogger(__name__)


def run_task(task_id: str) -> str:
    """Run the job behind task_id to a final state; return that state."""
    task = TaskInfo.objects.select_related("owner").filter(pk=task_id).first()
    if task is None:
        logger.warning("task id=%s vanished before it ran", task_id)
        return "missing"
    if not lifecycle.start_task(task_id):
        # Cancelled while queued (or delivered twice): a job that is not pending never starts.
        logger.info("task id=%s not started status=%s", task_id, task.status)
        return "not-started"

    reporter = ProgressReporter(task_id, task.total_items, owner=task.owner)
    heartbeat = Heartbeat(task_id, on_stop_requested=reporter.request_stop)
    heartbeat.start()
    try:
        result = get_task_kind(task.kind).function(progress_callback=reporter.update, **task.params)
    except JobCancelled as exc:
        reporter.flush()
        lifecycle.finish_task(
            task_id, Status.CANCELLED, result=exc.partial_result, error="Cancelled on request",
            processed_items=reporter.processed,
        )
        logger.info("task id=%s cancelled processed=%s", task_id, reporter.processed)
    except Exception as exc:
        logger.exception("task id=%s failed", task_id)
        reporter.flush()
        lifecycle.finish_task(
            task_id, Status.FAILED, error=f"{type(exc).__name__}: {exc}", processed_items=reporter.processed
        )
    else:
        reporter.flush()
        lifecycle.finish_task(task_id, Status.COMPLETED, result=result, processed_items=reporter.processed)
        logger.info("task id=%s completed writes=%s", task_id, reporter.writes)
    finally:
        heartbeat.stop()
    return TaskInfo.objects.values_list("status", flat=True).get(pk=task_id)


class Heartbeat(threading.Thread):
    """Refresh heartbeat_at while the job runs, and pass on a cancel request.

    One slow item must not make a live job look dead to the reaper, and a job that
    reports no progress must still learn that someone asked it to stop.
    """

    def __init__(self, task_id, on_stop_requested):
        super().__init__(name=f"heartbeat-{task_id}", daemon=True)
        self.task_id = task_id
        self.on_stop_requested = on_stop_requested
        self._finished = threading.Event()

    def run(self) -> None:
        interval = app_settings.HEARTBEAT_INTERVAL
        try:
            while not self._finished.wait(interval):
                self.beat()
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> None:
        try:
            close_old_connections()
            row = lifecycle.touch_running_task(self.task_id)
        except Exception:  # a lost beat is retried next time; the job goes on
            logger.exception("heartbeat failed task id=%s", self.task_id)
            return
        if lifecycle.should_stop(row):
            self.on_stop_requested()

    def stop(self) -> None:
        self._finished.set()
        self.join(timeout=5)
