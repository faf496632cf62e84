"""Tell a task's owner how it ended; called once, in the transaction that ends it."""

from ._notify import notify
from .models import Status, TaskInfo

NOTIFICATION_TYPES = {
    Status.COMPLETED: "task_complete",
    Status.FAILED: "task_failed",
    Status.CANCELLED: "task_cancelled",
}
VERBS = {Status.COMPLETED: "completed", Status.FAILED: "failed", Status.CANCELLED: "was cancelled"}
MAX_ERROR_CHARS = 300
AUTO_INGEST = "auto_ingest"  # jobs.auto_ingest.KIND (importing it here would be circular)


def on_task_finished(task: TaskInfo) -> None:
    """Send the one notification of the task's outcome (system tasks notify nobody, but see below).

    finish_task calls this only when its guarded UPDATE won, inside the same transaction,
    so the notification commits (and is announced) together with the final state, once.
    This is the only place a job's outcome is told: the job functions never notify about it.
    """
    if task.kind == AUTO_INGEST and task.status == Status.COMPLETED:
        _auto_ingest_complete(task)
        return
    if task.owner_id is None or task.status not in NOTIFICATION_TYPES:
        return
    notify(
        task.owner,
        NOTIFICATION_TYPES[task.status],
        f"{task.name} {VERBS[task.status]}"[:255],
        summarize(task),
        f"/tasks/{task.pk}/",
    )


def _auto_ingest_complete(task: TaskInfo) -> None:
    result = task.result if isinstance(task.result, dict) else {}
    approved = result.get("approved", 0)
    if task.owner_id is None and not approved:
        # A scheduled run (no owner) would otherwise tell every user, every hour, that it found
        # nothing: it speaks to everyone only when there are new articles to read.
        return
    notify(
        task.owner,  # None: everyone
        "auto_ingest_complete",
        "Auto-Collect Complete",
        f"Processed {result.get('processed', 0)} new articles: {approved} approved, "
        f"{result.get('rejected', 0)} rejected, {result.get('failed', 0)} failed.",
        link="/keyword-alerts",
    )


def summarize(task: TaskInfo) -> str:
    """Return a one-line account of the task's result (or its error)."""
    parts = []
    if task.status == Status.FAILED and task.error:
        error = task.error.strip().splitlines()[0] if task.error.strip() else ""
        parts.append(error[:MAX_ERROR_CHARS])
    result = summarize_result(task.result)
    if result:
        parts.append(result)
    if task.total_items:
        parts.append(f"{task.processed_items} of {task.total_items} items processed")
    if task.status == Status.CANCELLED and task.error and not result:
        parts.insert(0, task.error.strip()[:MAX_ERROR_CHARS])
    return ". ".join(parts) or "No result."


def summarize_result(result) -> str:
    """Describe a JSON result briefly: counts for a dict's numbers and lists, else its text."""
    if result is None or result == {} or result == []:
        return ""
    if isinstance(result, dict):
        pieces = []
        for key, value in result.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, (int, float)):
                pieces.append(f"{key}: {value:g}" if isinstance(value, float) else f"{key}: {value}")
            elif isinstance(value, (list, dict)):
                pieces.append(f"{key}: {len(value)}")
            elif isinstance(value, str) and len(value) <= 80:
                pieces.append(f"{key}: {value}")
        return ", ".join(pieces[:8])
    if isinstance(result, list):
        return f"{len(result)} results"
    return str(result)[:MAX_ERROR_CHARS]
