"""The JSON shape of a notification (REST answers and live messages) and of API inputs."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Notification
from .validation import MAX_LIMIT, validate_link, validate_type


class NotificationSerializer(serializers.ModelSerializer):
    # As the requesting user sees it: a system-wide notice's state comes from their receipt.
    read = serializers.BooleanField(source="read_by_user", read_only=True)
    system_wide = serializers.BooleanField(source="is_system_wide", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "type", "title", "message", "link", "read", "system_wide", "created_at"]
        read_only_fields = fields


def notification_snapshot(notification: Notification) -> dict:
    """Return the notification as the API shows it (read_by_user defaults to unread)."""
    if not hasattr(notification, "read_by_user"):
        notification.read_by_user = notification.read if notification.user_id else False
    return dict(NotificationSerializer(notification).data)


def limit_error(maximum: int) -> str:
    """Return the words a bad `limit` is refused with: the task list's (jobs.pagination), word for word."""
    return f"Expected a whole number of at least 1 and at most {maximum}."


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50})
class QueryLimitField(serializers.Field):
    """A `limit` query value read as the task list reads its own: ASCII digits only, 1 to MAX_LIMIT."""

    def to_internal_value(self, data) -> int:
        # IntegerField would take "+5", " 5" or "5.0"; the task list refuses them, so this does too.
        if not (isinstance(data, str) and data.isascii() and data.isdigit()) or not 1 <= int(data) <= MAX_LIMIT:
            raise serializers.ValidationError(limit_error(MAX_LIMIT))
        return int(data)

    def to_representation(self, value) -> int:
        return value


class NotificationListQuerySerializer(serializers.Serializer):
    unread_only = serializers.BooleanField(required=False, default=False)
    limit = QueryLimitField(required=False, default=50)


class NotificationListSerializer(serializers.Serializer):
    notifications = NotificationSerializer(many=True)
    count = serializers.IntegerField(min_value=0, help_text="How many notifications the list holds in all "
                                     "(with unread_only, how many are unread), not only this page.")


class CreateNotificationSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, allow_null=True, default=None,
                                     help_text="Recipient; null sends a system-wide notice.")
    type = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=255)
    message = serializers.CharField(allow_blank=True, required=False, default="")
    link = serializers.CharField(max_length=500, allow_blank=True, allow_null=True, required=False, default=None)

    def validate_type(self, value):
        return validate_type(value)

    def validate_link(self, value):
        return validate_link(value)


class NotificationCreatedSerializer(serializers.Serializer):
    notification_id = serializers.IntegerField()


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
