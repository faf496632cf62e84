"""Read-side use cases: one task, a list, the summary; always for someone."""

from django.core.exceptions import ValidationError

from .exceptions import TaskNotFound
from .models import TaskInfo


def tasks_for(user):
    """Return the tasks user may see (all of them when user is None: system code)."""
    tasks = TaskInfo.objects.select_related("owner")
    return tasks if user is None else tasks.visible_to(user)


def get_task(task_id, user=None) -> TaskInfo:
    """Return the task if user may see it; TaskNotFound otherwise (malformed ids included)."""
    try:
        return tasks_for(user).get(pk=task_id)
    except (TaskInfo.DoesNotExist, ValidationError, ValueError):
        raise TaskNotFound() from None


def list_tasks(status: str | None = None, user=None, include_children: bool = False):
    """Return the tasks user may see, newest first, optionally of one status.

    A group's chunks are left out unless include_children: lists show the group, once.
    """
    tasks = tasks_for(user).order_by("-created_at")
    if not include_children:
        tasks = tasks.filter(parent__isnull=True)
    return tasks.filter(status=status) if status else tasks


def list_children(task_id, user=None):
    """Return the chunks of the group task_id, in order, if user may see the group; TaskNotFound otherwise."""
    group = get_task(task_id, user)
    return tasks_for(None).filter(parent=group).order_by("chunk_index")


def get_task_summary(user=None) -> dict:
    """Return total, pending, running, completed, failed and cancelled counts (groups once, not their chunks)."""
    return tasks_for(user).filter(parent__isnull=True).summary()
