"""The `job_update` message of a task: its REST snapshot, its `seq`, and the old clients' flat fields.

The read side of the announce path: jobs.announce sends these after commit, and the
consumers build the snapshot a socket gets on connect from the same function.
"""

from django.utils import timezone

from .models import Status, TaskInfo
from .queries import tasks_for
from .serializers import task_snapshot

# The `status` word of a job_update, by the row's status (the old clients' vocabulary).
MESSAGE_STATUS = {
    Status.PENDING: "pending",
    Status.RUNNING: "progress",
    Status.COMPLETED: "completed",
    Status.FAILED: "error",
    Status.CANCELLED: "cancelled",
}


def task_update_message(task: TaskInfo, status: str | None = None, **fields) -> dict:
    """Return the `job_update` message for a task row.

    status overrides the message's `status` word (e.g. "batch_update"); fields the caller
    gives win over the defaults taken from the row.
    """
    snapshot = task_snapshot(task)
    defaults = {"progress": task.progress, "processed": task.processed_items, "total": task.total_items}
    if task.status == Status.COMPLETED:
        defaults["results"] = task.result
    if task.status == Status.FAILED:
        defaults["error"] = task.error
    return {
        "type": "job_update",
        "job_id": str(snapshot["id"]),
        "timestamp": timezone.now().isoformat(),
        "status": status or MESSAGE_STATUS[task.status],
        "seq": snapshot["seq"],
        "task": snapshot,
        **defaults,
        **fields,
    }


def latest_task_message(task_id) -> tuple[dict, object] | None:
    """Return the task's current job_update message and its owner id, or None if it is gone."""
    task = tasks_for(None).filter(pk=task_id).first()
    if task is None:
        return None
    return task_update_message(task), task.owner_id
