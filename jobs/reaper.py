"""End running tasks whose worker stopped beating: django-q2 alone never reports a SIGKILL."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import lifecycle
from .models import Status, TaskInfo

logger = logging.getLogger(__name__)


def reap_stale_tasks(stale_after: float | None = None) -> int:
    """Fail every running task with no heartbeat for stale_after seconds; return how many."""
    stale_after = settings.STATUSMSG["STALE_AFTER"] if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    stale = TaskInfo.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    reaped = 0
    for task_id, heartbeat_at in stale.values_list("pk", "heartbeat_at"):
        error = (
            f"Worker lost: no heartbeat since {heartbeat_at.isoformat() if heartbeat_at else 'the start'} "
            f"(more than {stale_after:g} s); the worker process died or was killed."
        )
        # Guarded on running: a worker that beats again in between wins, and the reaper loses.
        if lifecycle.finish_task(task_id, Status.FAILED, error=error, from_statuses=(Status.RUNNING,)):
            logger.warning("task id=%s reaped: %s", task_id, error)
            reaped += 1
    return reaped
