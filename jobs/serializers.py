"""The JSON shape of a task (REST answers and realtime snapshots) and of the task endpoints."""

from rest_framework import serializers

from statusmsg.api_input import StrictIntegerField

from .models import TaskInfo


class TaskInfoSerializer(serializers.ModelSerializer):
    # Scheduled jobs (auto-ingest) have no owner: null, and the schema says so.
    owner = serializers.CharField(source="owner.get_username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = TaskInfo
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "owner",
            "created_at",
            "started_at",
            "completed_at",
            "progress",
            "total_items",
            "processed_items",
            "current_item",
            "result",
            "error",
            "metadata",
            "seq",
            "heartbeat_at",
            "cancel_requested_at",
        ]
        read_only_fields = fields


def task_snapshot(task: TaskInfo) -> dict:
    """Return the task as the REST API shows it: the payload of every realtime message."""
    return dict(TaskInfoSerializer(task).data)


class TaskCreatedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()


class CancelResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    status = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


# A century: anything larger is a typo, and would overflow the cutoff date.
MAX_CLEANUP_AGE_HOURS = 24 * 365 * 100


class CleanupRequestSerializer(serializers.Serializer):
    # Strict: `false` or "0" once read as 0 hours and deleted every finished task.
    max_age_hours = StrictIntegerField(min_value=0, max_value=MAX_CLEANUP_AGE_HOURS, default=24)


class CleanupResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    max_age_hours = serializers.IntegerField()
