"""The notification use cases: every view, admin action, job and consumer goes through these.

Each write is one transaction and announces itself through the realtime publisher only after
it commits. Counts are never stored: they are counted from the rows each time, so concurrent
calls cannot leave a count wrong or negative.
"""

import functools
import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from realtime import publisher
from statusmsg import metrics

from .exceptions import InvalidNotification
from .models import Notification, NotificationReceipt
from .serializers import notification_snapshot
from .validation import validate_link, validate_type

logger = logging.getLogger(__name__)

# Event types; each consumer handles one with the method of the same name (dots -> '_').
NOTIFICATION_CREATED = "notification.created"
NOTIFICATIONS_CHANGED = "notifications.changed"


# --- write side ---------------------------------------------------------------------------


def _retry_if_a_notice_vanishes(function):
    """Run a receipt-writing use case again if its commit fails on a just-deleted notice.

    PostgreSQL checks the receipt's foreign key at commit (Django declares it deferred), so
    staff deleting a system-wide notice between our read and our commit fails the commit
    with IntegrityError; a fresh attempt no longer sees the notice. Inside a caller's
    transaction the commit is not ours, so the error is left to the caller.
    """

    @functools.wraps(function)
    def run(*args, **kwargs):
        if connection.in_atomic_block:
            return function(*args, **kwargs)
        for attempt in range(3):
            try:
                return function(*args, **kwargs)
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("notice deleted during %s; retrying", function.__name__)

    return run


def create_notification(recipient, type: str, title: str, message: str, link: str | None = None) -> int:
    """Create a notification for a user (given as a user or a username) or, for None, everyone.

    Return its id. Raise InvalidNotification (a 400 with field errors) for an unknown
    username or a bad field.
    """
    errors: dict[str, list[str]] = {}
    user = None
    try:
        user = _resolve_recipient(recipient)
    except ValidationError as exc:
        errors["username"] = exc.messages
    fields = {"type": type, "title": title, "message": message, "link": link}
    cleaned = {}
    for name, check in (("type", validate_type), ("title", _check_title), ("message", _check_message),
                        ("link", validate_link)):
        try:
            cleaned[name] = check(fields[name])
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise InvalidNotification(errors)

    # No savepoint of its own: alone it is the whole transaction, and inside notify() (or any
    # caller's atomic block) a failure undoes the caller's savepoint or transaction anyway.
    with transaction.atomic(savepoint=False):
        notification = Notification.objects.create(user=user, **cleaned)
        snapshot = notification_snapshot(notification)
        event = {"type": NOTIFICATION_CREATED, "notification": snapshot}
        if user is None:
            transaction.on_commit(lambda: publisher.publish_to_all_users(event))
        else:
            transaction.on_commit(lambda: publisher.publish_to_user(user.pk, event))
    logger.info("notification id=%s user=%s type=%s", notification.pk, user.pk if user else "all", cleaned["type"])
    metrics.NOTIFICATIONS_CREATED.labels(cleaned["type"]).inc()
    return notification.pk


def notify(recipient, type: str, title: str, message: str, link: str | None = None) -> int | None:
    """Create a notification as a side effect of other work; log a failure instead of raising.

    For jobs and workloads whose own work is done and saved: a notice that cannot be written
    must not undo it. The savepoint keeps a failed INSERT from breaking the caller's
    transaction. Return the id, or None when it failed.
    """
    try:
        with transaction.atomic():
            return create_notification(recipient, type, title, message, link=link)
    except Exception:
        logger.exception("notification failed type=%s", type)
        return None


@_retry_if_a_notice_vanishes
def mark_notification_as_read(notification_id, user) -> bool:
    """Mark one notification read for user: their own, or a system-wide one for them only.

    Return False when user cannot see it (someone else's, unknown, or hidden by them).
    """
    with transaction.atomic():
        notification = _visible_row(notification_id, user)
        if notification is None:
            return False
        now = timezone.now()
        if notification.user_id is not None:
            changed = Notification.objects.filter(pk=notification.pk, read=False).update(read=True)
        else:
            # get_or_create meets a concurrent insert at the unique (user, notification)
            # constraint and re-reads the winner's row, so no duplicate and no error.
            receipt, created = NotificationReceipt.objects.get_or_create(
                user=user, notification=notification, defaults={"read_at": now}
            )
            if receipt.hidden_at is not None:
                return False
            changed = created or NotificationReceipt.objects.filter(
                pk=receipt.pk, read_at__isnull=True
            ).update(read_at=now)
        if changed:
            _announce_changed(user)
    return True


@_retry_if_a_notice_vanishes
def mark_all_notifications_as_read(user) -> int:
    """Mark every notification user sees as read (system-wide ones for them only); return how many."""
    now = timezone.now()
    with transaction.atomic():
        own = Notification.objects.unread_own(user).update(read=True)
        # Receipts exist for system-wide notices only. Update the existing ones first, then
        # insert the missing ones: a receipt that a concurrent call inserts in between is
        # skipped by ON CONFLICT and counted by that call alone.
        updated = NotificationReceipt.objects.filter(
            user=user, read_at__isnull=True, hidden_at__isnull=True
        ).update(read_at=now)
        inserted = _insert_receipts(user, read_at=now)
        total = own + updated + inserted
        if total:
            _announce_changed(user)
    return total


@_retry_if_a_notice_vanishes
def delete_notification(notification_id, user) -> bool:
    """Delete user's own notification, or hide a system-wide one for user only.

    Return False when user cannot see it (someone else's, unknown, or already hidden).
    """
    with transaction.atomic():
        notification = _visible_row(notification_id, user)
        if notification is None:
            return False
        if notification.user_id is not None:
            _, per_model = Notification.objects.filter(pk=notification.pk, user=user).delete()
            changed = per_model.get(Notification._meta.label, 0)
        else:
            now = timezone.now()
            receipt, created = NotificationReceipt.objects.get_or_create(
                user=user, notification=notification, defaults={"hidden_at": now}
            )
            changed = created or NotificationReceipt.objects.filter(
                pk=receipt.pk, hidden_at__isnull=True
            ).update(hidden_at=now)
        if changed:
            _announce_changed(user)
    return bool(changed)


def delete_read_notifications(user) -> int:
    """Delete user's read notifications and hide the system-wide ones they read; return how many."""
    with transaction.atomic():
        _, per_model = Notification.objects.filter(user=user, read=True).delete()
        own = per_model.get(Notification._meta.label, 0)
        hidden = NotificationReceipt.objects.filter(
            user=user, read_at__isnull=False, hidden_at__isnull=True
        ).update(hidden_at=timezone.now())
        total = own + hidden
        if total:
            _announce_changed(user)
    return total


# --- staff operations (the admin) ----------------------------------------------------------


def set_read_by_staff(notification_ids, read: bool) -> int:
    """Set the read flag of users' own notifications; system-wide ones are per user and skipped.

    Return how many changed.
    """
    with transaction.atomic():
        rows = Notification.objects.filter(pk__in=list(notification_ids), user__isnull=False).exclude(read=read)
        user_ids = set(rows.values_list("user_id", flat=True))
        changed = rows.update(read=read)
        for user_id in user_ids:
            _announce_changed_to(user_id)
    return changed


def delete_by_staff(notification_ids) -> int:
    """Delete notifications outright (a system-wide one for everyone); return how many."""
    with transaction.atomic():
        rows = Notification.objects.filter(pk__in=list(notification_ids))
        user_ids = set(rows.values_list("user_id", flat=True))
        _, per_model = rows.delete()
        for user_id in user_ids:
            _announce_changed_to(user_id)
    return per_model.get(Notification._meta.label, 0)


# --- helpers ------------------------------------------------------------------------------


def _resolve_recipient(recipient):
    if recipient is None:
        return None
    user_model = get_user_model()
    if isinstance(recipient, user_model):
        if recipient.pk is None:
            raise ValidationError("The user is not saved.")
        return recipient
    if isinstance(recipient, str):
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: recipient}).first()
        if user is None:
            raise ValidationError(f"No user named {recipient!r}.")
        return user
    raise ValidationError("Give a username, a user, or null for everyone.")


def _check_title(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("A title is required.")
    if len(value) > 255:
        raise ValidationError("Ensure the title has at most 255 characters.")
    return value


def _check_message(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("The message must be a string.")
    return value


def _visible_row(notification_id, user) -> Notification | None:
    """Return the notification if it is user's own or system-wide (hidden or not), else None."""
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError):
        return None
    notification = Notification.objects.filter(pk=notification_id).only("pk", "user_id").first()
    if notification is None or notification.user_id not in (None, user.pk):
        return None
    return notification


def _insert_receipts(user, read_at) -> int:
    """Insert a read receipt for every system-wide notice user has none for; return how many."""
    receipt = NotificationReceipt._meta.db_table
    notification = Notification._meta.db_table
    quote = connection.ops.quote_name
    stamp = connection.ops.adapt_datetimefield_value(read_at)
    # One INSERT … SELECT: no row is loaded into Python, however many notices exist.
    # (SQLite needs the WHERE on the SELECT to parse ON CONFLICT; PostgreSQL does not mind.)
    sql = (
        f"INSERT INTO {quote(receipt)} (notification_id, user_id, read_at, hidden_at) "
        f"SELECT n.id, %s, %s, NULL FROM {quote(notification)} n "
        f"WHERE n.user_id IS NULL AND NOT EXISTS (SELECT 1 FROM {quote(receipt)} r "
        f"WHERE r.notification_id = n.id AND r.user_id = %s) "
        f"ON CONFLICT (user_id, notification_id) DO NOTHING RETURNING notification_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, stamp, user.pk])
        return len(cursor.fetchall())


def _announce_changed(user) -> None:
    """Tell every open tab of user, after commit, that their inbox changed."""
    _announce_changed_to(user.pk)


def _announce_changed_to(user_id) -> None:
    """As _announce_changed, by id; None (a system-wide change) tells every user."""
    event = {"type": NOTIFICATIONS_CHANGED}
    if user_id is None:
        transaction.on_commit(lambda: publisher.publish_to_all_users(event))
    else:
        transaction.on_commit(lambda: publisher.publish_to_user(user_id, event))
