"""Read-side use cases of keyword groups and alerts; always for someone."""

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from .exceptions import KeywordGroupNotFound
from .models import KeywordAlert, KeywordGroup


def get_keyword_group(group_id, user) -> KeywordGroup:
    """Return the keyword group if user may see it (owner or staff); KeywordGroupNotFound otherwise."""
    try:
        return KeywordGroup.objects.visible_to(user).get(pk=group_id)
    except (KeywordGroup.DoesNotExist, ValidationError, ValueError, TypeError):
        # Someone else's group answers like a missing one: its existence is not revealed.
        raise KeywordGroupNotFound() from None


def keyword_groups_of(user):
    """Return the keyword groups user owns, by name."""
    return KeywordGroup.objects.owned_by(user)


def keyword_alerts_for(user):
    """Return the alerts of user's own groups, newest first, with their group and article."""
    return KeywordAlert.objects.for_user(user).select_related("group", "article")


def keyword_alert_counts(user) -> dict:
    """Return {"total": …, "unread": …} for the alerts of user's own groups, in one query."""
    return KeywordAlert.objects.for_user(user).aggregate(total=Count("pk"), unread=Count("pk", filter=Q(is_read=False)))
