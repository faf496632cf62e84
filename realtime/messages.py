"""The `job_update` message: the shape every realtime job message has, built from a task row."""

from django.utils import timezone

from jobs.models import Status, TaskInfo
from jobs.serializers import task_snapshot

# The `status` word of a job_update, by the row's status (the old clients' vocabulary).
MESSAGE_STATUS = {
    Status.PENDING: "pending",
    Status.RUNNING: "progress",
    Status.COMPLETED: "completed",
    Status.FAILED: "error",
    Status.CANCELLED: "cancelled",
}


def job_update_message(snapshot: dict, status: str, **fields) -> dict:
    """Return the `job_update` message for a task snapshot."""
    return {
        "type": "job_update",
        "job_id": str(snapshot["id"]),
        "timestamp": timezone.now().isoformat(),
        "status": status,
        "seq": snapshot["seq"],
        "task": snapshot,
        **fields,
    }


def task_update_message(task: TaskInfo, status: str | None = None, **fields) -> dict:
    """Return the `job_update` message for a task row, with the old clients' flat fields.

    status overrides the message's `status` word (e.g. "batch_update"); fields the caller
    gives win over the defaults taken from the row.
    """
    defaults = {"progress": task.progress, "processed": task.processed_items, "total": task.total_items}
    if task.status == Status.COMPLETED:
        defaults["results"] = task.result
    if task.status == Status.FAILED:
        defaults["error"] = task.error
    return job_update_message(task_snapshot(task), status or MESSAGE_STATUS[task.status], **{**defaults, **fields})
