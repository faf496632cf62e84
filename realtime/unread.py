"""A socket's copy of its user's unread count, kept current without a query per broadcast.

A system-wide notice reaches every open socket at once; if each counted its user's unread
notifications again, 10,000 sockets would run 10,000 queries at the same moment. Instead a
socket reads the count when it connects and after each change to its user's inbox (a
per-user event), and adds a brand-new notification (unread for everyone) without a query.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.models import Notification

# Notifications created this long before a read are listed by id, so that a message about
# one of them is recognised as already counted. A message about an older one (a transaction
# that ran longer than this, or a skewed clock) makes the socket read the count again.
RECENT = timedelta(minutes=5)


@dataclass
class UnreadCount:
    count: int
    since: datetime  # the read listed every notification of the user created from here on
    counted: set[int] = field(default_factory=set)  # their ids, read or not

    def add_new(self, notification: dict) -> bool:
        """Count a just-created notification in; False when only a fresh read can tell."""
        created_at = parse_datetime(str(notification.get("created_at") or ""))
        if created_at is None or timezone.is_naive(created_at) or created_at < self.since:
            return False
        if notification["id"] not in self.counted:
            self.counted.add(notification["id"])
            if not notification.get("read"):
                self.count += 1
        return True


def read_unread_count(user) -> UnreadCount:
    """Read user's unread count and the ids of their recent notifications it covers.

    Two statements split at `since`, so they need not share a snapshot: a notification
    committed between them was created after `since` (or its message makes the socket
    read again), so it is in the second statement alone, in the count if and only if
    its id is listed. Counts come from Notification.objects.unread_for, the one rule.
    """
    since = timezone.now() - RECENT
    older = Notification.objects.unread_for(user).filter(created_at__lt=since).count()
    unread = Notification.objects.unread_for(user).filter(pk=OuterRef("pk"))
    # Hidden notices included: a late message about one must not count it again.
    recent = dict(
        Notification.objects.addressed_to(user).filter(created_at__gte=since)
        .annotate(unread=Exists(unread))
        .values_list("pk", "unread")
    )
    return UnreadCount(older + sum(recent.values()), since, set(recent))
