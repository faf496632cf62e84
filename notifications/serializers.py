"""The JSON shape of a notification (REST answers and live messages) and of API inputs."""

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


class NotificationListQuerySerializer(serializers.Serializer):
    unread_only = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=MAX_LIMIT)


class NotificationListSerializer(serializers.Serializer):
    notifications = NotificationSerializer(many=True)
    count = serializers.IntegerField()


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
