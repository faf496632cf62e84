"""Tell people how a task ended: one notification, in the transaction that ends it.

Each task kind may name its own `describe(task) -> OutcomeNotice | None` (TaskKind.outcome_path);
the rest get `default_notice`. finish_task calls `on_task_finished` only when its guarded
UPDATE won, so the notice commits (and is announced) together with the final state, once.
This is the only place a task's outcome is told: job functions never notify about it.
"""

import logging
from dataclasses import dataclass

from django.utils.module_loading import import_string

from notifications.services import notify

from .models import Status, TaskInfo
from .registry import get_task_kind

logger = logging.getLogger(__name__)

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
    try:
        notice = describe(task)
    except Exception:  # a kind's own wording must not keep the task from ending: tell it plainly
        logger.exception("outcome description failed task id=%s kind=%s", task.pk, task.kind)
        notice = default_notice(task)
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
    """Return a short account of how the task ended, in sentences: its error, then how far it got."""
    parts = []
    if task.status in (Status.FAILED, Status.CANCELLED):
        parts.append(first_line(task.error))
    if task.total_items:
        parts.append(f"{task.processed_items} of {counted(task.total_items, 'item')} processed")
    return sentences(*parts) or "Finished with nothing to report."


def first_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Return the first line of text (an error's message, not its traceback), at most limit characters."""
    lines = (text or "").strip().splitlines()
    return lines[0][:limit] if lines else ""


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """Return "1 URL", "3 URLs": number with the noun that agrees with it."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def sentences(*parts: str) -> str:
    """Join parts into sentences: each capitalized and ending in one stop (never ".."), blanks left out."""
    cleaned = [part.strip().rstrip(".").rstrip() for part in parts if part]
    return " ".join(part[0].upper() + part[1:] + ("" if part.endswith(("!", "?", "…")) else ".")
                    for part in cleaned if part)
