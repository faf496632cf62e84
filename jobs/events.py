"""Announce a task's change to live subscribers once the write that made it has committed."""

from django.db import transaction

from realtime import job_updates

from .models import TaskInfo


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
    return job_updates.publish_task_update(task, message_status, **fields)["task"]
