"""Announce a task's change to live subscribers once the write that made it has committed."""

from django.db import transaction

from realtime import publisher

from .models import Status, TaskInfo
from .serializers import task_snapshot

# The `status` word of a job_update, by the row's status (the old clients' vocabulary).
MESSAGE_STATUS = {
    Status.PENDING: "pending",
    Status.RUNNING: "progress",
    Status.COMPLETED: "completed",
    Status.FAILED: "error",
    Status.CANCELLED: "cancelled",
}


def announce_on_commit(task_id, message_status: str | None = None, **fields) -> None:
    """Publish the task's committed snapshot after the current transaction commits."""
    transaction.on_commit(lambda: announce(task_id, message_status, **fields))


def announce(task_id, message_status: str | None = None, **fields) -> dict | None:
    """Publish the task's current snapshot now; return it (None if the row is gone).

    message_status overrides the message's `status` word (e.g. "batch_update").
    """
    task = TaskInfo.objects.select_related("owner").filter(pk=task_id).first()
    if task is None:
        return None
    snapshot = task_snapshot(task)
    status = message_status or MESSAGE_STATUS[task.status]
    publisher.publish_job_update(snapshot, status, **_defaults(task, fields))
    return snapshot


def _defaults(task: TaskInfo, fields: dict) -> dict:
    """Add the old clients' flat progress fields, unless the caller gave them."""
    base = {"progress": task.progress, "processed": task.processed_items, "total": task.total_items}
    if task.status == Status.COMPLETED:
        base["results"] = task.result
    if task.status == Status.FAILED:
        base["error"] = task.error
    return {**base, **fields}
