"""The JSON shape of a task (REST answers and realtime snapshots) and of job inputs."""

from django.conf import settings
from rest_framework import serializers

from .models import Article, TaskInfo


class TaskInfoSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True, default=None)

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


class BulkArticleSerializer(serializers.ModelSerializer):
    """One article of a bulk save; validated again per item by the job."""

    published_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = Article
        fields = ["url", "title", "content", "source", "topic", "published_at"]
        # Uniqueness is the job's business: a duplicate url is skipped, not refused.
        extra_kwargs = {"url": {"validators": []}}


class BulkSaveRequestSerializer(serializers.Serializer):
    articles = serializers.ListField(child=serializers.DictField(), allow_empty=False)
    # Live subscribers of /ws/progress/<topic> follow the job by this name.
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_articles(self, articles: list) -> list:
        limit = settings.STATUSMSG["MAX_BULK_ITEMS"]
        if len(articles) > limit:
            raise serializers.ValidationError(f"At most {limit} articles per request; got {len(articles)}.")
        errors = {}
        for index, article in enumerate(articles):
            item = BulkArticleSerializer(data=article)
            if not item.is_valid():
                errors[index] = item.errors
        if errors:
            raise serializers.ValidationError(errors)
        return articles


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
    max_age_hours = serializers.FloatField(min_value=0, max_value=MAX_CLEANUP_AGE_HOURS, default=24)


class CleanupResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    max_age_hours = serializers.FloatField()
