"""End running tasks whose worker stopped beating: django-q2 alone never reports a SIGKILL."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from statusmsg.conf import app_settings

from . import lifecycle
from .models import Status, TaskInfo
from .queue_items import release_held_items
from .registry import get_task_kind

logger = logging.getLogger(__name__)


def reap_stale_tasks(stale_after: float | None = None) -> int:
    """Fail tasks whose worker was lost, or that never reached the queue; return how many.

    Also frees the queue items a cluster took more than stale_after ago without starting them
    (it died, or all its workers are busy), so another cluster runs them now rather than when
    the broker's retry expires.
    """
    stale_after = app_settings.STALE_AFTER if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    reaped = _reap_running(cutoff, stale_after) + _reap_never_enqueued(cutoff, stale_after)
    reaped += _settle_stranded_groups()
    release_held_items(held_longer_than=stale_after)
    return reaped


def _reap_running(cutoff, stale_after: float) -> int:
    # A group's parent has no worker of its own: it ends with its chunks (see _settle_stranded_groups).
    stale = TaskInfo.objects.filter(status=Status.RUNNING, children_total=0).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    reaped = 0
    for task_id, kind, started_at, heartbeat_at, parent_id in stale.values_list(
            "pk", "kind", "started_at", "heartbeat_at", "parent_id"):
        error = (
            f"Worker lost: no heartbeat since {heartbeat_at.isoformat() if heartbeat_at else 'the start'} "
            f"(more than {stale_after:g} s); {_likely_cause(kind, started_at, heartbeat_at)}."
        )
        # A lost chunk of a group runs again while it has runs left (its group is still wanted);
        # after its last, it fails below: its items count as failed, with this reason.
        if parent_id is not None and lifecycle.run_chunk_again(task_id, error):
            reaped += 1
            continue
        # Guarded on running: a worker that beats again in between wins, and the reaper loses.
        if lifecycle.finish_task(task_id, Status.FAILED, error=error, from_statuses=(Status.RUNNING,)):
            logger.warning("task id=%s reaped: %s", task_id, error)
            reaped += 1
    return reaped


def _likely_cause(kind: str, started_at, heartbeat_at) -> str:
    """Say whether the queue's timeout probably killed the worker, or something else did."""
    try:
        timeout = get_task_kind(kind).effective_timeout
    except LookupError:
        return "the worker process died or was killed"
    if started_at and heartbeat_at and (heartbeat_at - started_at).total_seconds() >= timeout - 2 * _beat():
        return f"it ran into the queue's timeout of {timeout} s for {kind} jobs, which kills the worker"
    return "the worker process died or was killed"


def _beat() -> float:
    return app_settings.HEARTBEAT_INTERVAL


def _reap_never_enqueued(cutoff, stale_after: float) -> int:
    """Fail pending tasks that never got a queue id: the process died between commit and enqueue."""
    lost = TaskInfo.objects.filter(status=Status.PENDING, queue_task_id="", children_total=0,
                                   created_at__lt=cutoff)
    reaped = 0
    for task_id in lost.values_list("pk", flat=True):
        error = f"Never reached the queue (still unqueued after {stale_after:g} s); start it again."
        if lifecycle.finish_task(task_id, Status.FAILED, error=error, from_statuses=(Status.PENDING,)):
            logger.warning("task id=%s reaped: %s", task_id, error)
            reaped += 1
    return reaped


def _settle_stranded_groups() -> int:
    """End groups whose chunks have all ended but which are not: the last chunk's ending
    transaction settles its group, so only a failure inside that transaction leaves one."""
    stranded = TaskInfo.objects.filter(children_total__gt=0, status__in=lifecycle.UNFINISHED).exclude(
        children__status__in=lifecycle.UNFINISHED)
    settled = 0
    for parent_id in stranded.values_list("pk", flat=True):
        lifecycle.settle_group(parent_id)
        logger.warning("group id=%s settled by the reaper", parent_id)
        settled += 1
    return settled
