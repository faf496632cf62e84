"""Tell a task's owner how it ended; called once, in the transaction that ends it."""

from .models import TaskInfo


def on_task_finished(task: TaskInfo) -> None:
    """Record the task's outcome for its owner (filled in by the notifications issue)."""
