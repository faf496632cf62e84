"""Tell people how a task ended: one notification, in the transaction that ends it.

Each task kind may name its own `describe(task) -> OutcomeNotice | None` (TaskKind.outcome_path);
the rest get `default_notice`. finish_task calls `on_task_finished` only when its guarded
UPDATE won, so the notice commits (and is announced) together with the final state, once.
This is the only place a task's outcome is told: job functions never notify about it.
"""

from dataclasses import dataclass

from django.utils.module_loading import import_string

from notifications.services import notify

from .models import Status, TaskInfo
from .registry import get_task_kind

NOTIFICATION_TYPES = {
    Status.COMPLETED: "task_complete",
    Status.FAILED: "task_failed",
    Status.CANCELLED: "task_cancelled",
}
VERBS = {Status.COMPLETED: "completed", Status.FAILED: "failed", Status.CANCELLED: "was cancelled"}
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class OutcomeNotice:
    """What to tell, and whom: recipient is a user, or None for everyone."""

    recipient: object
    type: str
    title: str
    message: str
    link: str = ""


def on_task_finished(task: TaskInfo) -> None:
    """Send the one notification of the task's outcome, as its kind describes it."""
    notice = describe(task)
    if notice is not None:
        notify(notice.recipient, notice.type, notice.title[:255], notice.message, link=notice.link or None)


def describe(task: TaskInfo) -> OutcomeNotice | None:
    """Return the notice for a finished task: its kind's own, or the default one."""
    try:
        outcome_path = get_task_kind(task.kind).outcome_path
    except LookupError:  # a kind no longer registered still ends with the default notice
        outcome_path = None
    describe_kind = import_string(outcome_path) if outcome_path else default_notice
    return describe_kind(task)


def default_notice(task: TaskInfo) -> OutcomeNotice | None:
    """Tell the owner that the task completed, failed or was cancelled; system tasks tell nobody."""
    if task.owner_id is None or task.status not in NOTIFICATION_TYPES:
        return None
    return OutcomeNotice(
        task.owner,
        NOTIFICATION_TYPES[task.status],
        f"{task.name} {VERBS[task.status]}",
        summarize(task),
        f"/tasks/{task.pk}/",
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
