"""Read-side use cases: one task, a list, the summary; always for someone."""

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from rest_framework.exceptions import NotFound

from .exceptions import TaskNotFound
from .models import KeywordAlert, KeywordGroup, TaskInfo


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


def list_tasks(status: str | None = None, user=None):
    """Return the tasks user may see, newest first, optionally of one status."""
    tasks = tasks_for(user).order_by("-created_at")
    return tasks.filter(status=status) if status else tasks


def get_task_summary(user=None) -> dict:
    """Return total, pending, running, completed, failed and cancelled counts."""
    return tasks_for(user).summary()


def get_keyword_group(group_id, user) -> KeywordGroup:
    """Return the keyword group if user may see it (owner or staff); a 404 NotFound otherwise."""
    try:
        return KeywordGroup.objects.visible_to(user).get(pk=group_id)
    except (KeywordGroup.DoesNotExist, ValidationError, ValueError, TypeError):
        # Someone else's group answers like a missing one: its existence is not revealed.
        raise NotFound("No such keyword group.") from None


def keyword_groups_of(user):
    """Return the keyword groups user owns, by name."""
    return KeywordGroup.objects.owned_by(user)


def keyword_alerts_for(user):
    """Return the alerts of user's own groups, newest first, with their group and article."""
    return KeywordAlert.objects.for_user(user).select_related("group", "article")


def keyword_alert_counts(user) -> dict:
    """Return {"total": …, "unread": …} for the alerts of user's own groups, in one query."""
    return KeywordAlert.objects.for_user(user).aggregate(total=Count("pk"), unread=Count("pk", filter=Q(is_read=False)))
