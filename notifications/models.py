"""Notification, the inbox row, and NotificationReceipt, one user's state of a system-wide one."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone


class NotificationQuerySet(models.QuerySet):
    def own(self, user) -> "NotificationQuerySet":
        """Return the notifications addressed to user alone."""
        return self.filter(user=user)

    def system_wide(self) -> "NotificationQuerySet":
        return self.filter(user__isnull=True)

    def system_wide_for(self, user) -> "NotificationQuerySet":
        """Return the system-wide notices user has not hidden, each with `read_by_user`."""
        receipts = NotificationReceipt.objects.filter(user=user, notification=OuterRef("pk"))
        return (
            self.system_wide()
            .exclude(Exists(receipts.filter(hidden_at__isnull=False)))
            .annotate(read_by_user=Exists(receipts.filter(read_at__isnull=False)))
        )

    def own_for(self, user) -> "NotificationQuerySet":
        """Return user's own notifications, each with `read_by_user`."""
        return self.own(user).annotate(read_by_user=F("read"))

    def addressed_to(self, user) -> "NotificationQuerySet":
        """Return user's own notifications and every system-wide one, hidden or not."""
        return self.filter(Q(user=user) | Q(user__isnull=True))

    def visible_to(self, user) -> "NotificationQuerySet":
        """Return what user's inbox shows: their own notifications and unhidden system-wide ones."""
        hidden = NotificationReceipt.objects.filter(
            user=user, notification=OuterRef("pk"), hidden_at__isnull=False
        )
        return self.filter(Q(user=user) | (Q(user__isnull=True) & ~Exists(hidden)))

    def unread_own(self, user) -> "NotificationQuerySet":
        return self.own(user).filter(read=False)

    def unread_system_wide_for(self, user) -> "NotificationQuerySet":
        """Return the system-wide notices user has neither read nor hidden."""
        seen = NotificationReceipt.objects.filter(user=user, notification=OuterRef("pk")).filter(
            Q(read_at__isnull=False) | Q(hidden_at__isnull=False)
        )
        return self.system_wide().exclude(Exists(seen))

    def unread_for(self, user) -> "NotificationQuerySet":
        """Return what user has not read: own unread rows and unseen system-wide notices.

        One statement, so a count is taken from a single snapshot: PostgreSQL ORs the
        (user, read) range with the partial system-wide index and anti-joins the receipts.
        """
        seen = NotificationReceipt.objects.filter(user=user, notification=OuterRef("pk")).filter(
            Q(read_at__isnull=False) | Q(hidden_at__isnull=False)
        )
        return self.filter(Q(user=user, read=False) | (Q(user__isnull=True) & ~Exists(seen)))

    def newest_first(self) -> "NotificationQuerySet":
        # id breaks ties between rows created in the same microsecond (bulk loads, tests).
        return self.order_by("-created_at", "-id")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        # The composite indexes below all start with user, so a lone user index is redundant.
        db_index=False,
        help_text="Empty means system-wide: every user sees it and reads it for themselves.",
    )
    type = models.CharField(max_length=50, db_index=True)
    title = models.CharField(max_length=255)
    message = models.TextField(blank=True, default="")
    link = models.CharField(max_length=500, blank=True, default="")
    # Meaningful for a user's own notification only; per-user state of a system-wide
    # notification lives in NotificationReceipt.
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Unread count (user, read=false) is one index range; the unread-only first
            # page reads it in order, newest first, and stops at the limit.
            models.Index(fields=["user", "read", "-created_at", "-id"], name="notif_user_read_new"),
            # First page of a user's own inbox, read in order up to the limit.
            models.Index(fields=["user", "-created_at", "-id"], name="notif_user_new"),
            # System-wide notices newest first. A partial index because PostgreSQL does not
            # treat `user_id IS NULL` as an equality, so it cannot take the order from the
            # index above and would walk created_at over every row instead.
            models.Index(fields=["-created_at", "-id"], condition=Q(user__isnull=True), name="notif_system_new"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_system_wide(self) -> bool:
        return self.user_id is None


class NotificationReceipt(models.Model):
    """One user's read or hidden state of one system-wide notification.

    No row means unread and visible, so a user who joins later sees every notice unread.
    """

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_receipts",
        db_index=False,  # the unique (user, notification) index serves every lookup by user
    )
    read_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One receipt per user and notice: concurrent marks meet here instead of duplicating.
            models.UniqueConstraint(fields=["user", "notification"], name="notif_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.notification_id}"
