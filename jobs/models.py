"""TaskInfo, the one record of a job, and Article, what the jobs produce."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count, Q


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)


class TaskInfoQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TaskInfoQuerySet":
        """Return the tasks user may see: their own, or all of them for staff."""
        if user.is_staff:
            return self
        return self.filter(owner=user)

    def finished(self) -> "TaskInfoQuerySet":
        return self.filter(status__in=FINAL_STATUSES)

    def summary(self) -> dict:
        """Return the count of tasks per status (and the total) in one query."""
        counts = self.aggregate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Status.values},
        )
        return counts


class TaskInfo(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=50, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    total_items = models.PositiveIntegerField(default=0)
    processed_items = models.PositiveIntegerField(default=0)
    current_item = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # The job's input, kept on the row so the worker needs only the id (never shown by the API).
    params = models.JSONField(default=dict, blank=True)
    # Bumped by every write of the row, so readers can tell a newer snapshot from an older one.
    seq = models.PositiveBigIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    queue_task_id = models.CharField(max_length=64, blank=True, default="")

    objects = TaskInfoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"], name="task_owner_status_new"),
            models.Index(fields=["owner", "-created_at"], name="task_owner_new"),
            models.Index(fields=["status", "-created_at"], name="task_status_new"),
            models.Index(fields=["status", "completed_at"], name="task_finished_age"),
            models.Index(fields=["status", "heartbeat_at"], name="task_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES


class Article(models.Model):
    url = models.URLField(max_length=2000, unique=True)
    title = models.CharField(max_length=500, blank=True, default="")
    content = models.TextField(blank=True, default="")
    source = models.CharField(max_length=200, blank=True, default="")
    topic = models.CharField(max_length=200, blank=True, default="", db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Filled by the analysis workloads.
    summary = models.TextField(blank=True, default="")
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=20, blank=True, default="")
    keywords = models.JSONField(default=list, blank=True)
    relevance = models.FloatField(null=True, blank=True)
    model_used = models.CharField(max_length=100, blank=True, default="")
    analyzed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or self.url


# --- Workloads: feeds and auto-ingest settings, keyword groups and their alerts.


class FeedSource(models.Model):
    name = models.CharField(max_length=200, blank=True, default="")
    url = models.URLField(max_length=2000, unique=True)
    topic = models.CharField(max_length=200, blank=True, default="", help_text="Relevance is scored against it.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name", "url"]

    def __str__(self) -> str:
        return self.name or self.url


class AutoIngestConfig(models.Model):
    """The one row of auto-ingest settings (pk is always 1), edited in the admin."""

    SINGLETON_PK = 1

    enabled = models.BooleanField(default=False, help_text="Run on the schedule; a manual start works either way.")
    quality_control_enabled = models.BooleanField(default=True)
    min_relevance_threshold = models.FloatField(default=0.3, help_text="0..1; articles below it are dropped.")
    min_content_length = models.PositiveIntegerField(default=300,
                                                     help_text="Characters; shorter fails quality control.")
    batch_size = models.PositiveIntegerField(default=10)
    max_concurrent_batches = models.PositiveIntegerField(default=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "auto-ingest settings"
        verbose_name_plural = "auto-ingest settings"

    def __str__(self) -> str:
        return "Auto-ingest settings"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "AutoIngestConfig":
        config, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return config


class KeywordGroupQuerySet(models.QuerySet):
    def visible_to(self, user) -> "KeywordGroupQuerySet":
        return self if user.is_staff else self.filter(owner=user)

    def owned_by(self, user) -> "KeywordGroupQuerySet":
        return self.filter(owner=user)


class KeywordGroup(models.Model):
    name = models.CharField(max_length=200)
    keywords = models.JSONField(default=list, help_text='A list of words or phrases, e.g. ["solar", "wind power"].')
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="keyword_groups")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_articles = models.ManyToManyField(Article, through="KeywordCheck", related_name="+", blank=True)

    objects = KeywordGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeywordCheck(models.Model):
    """That group has scanned article: the next check skips it."""

    group = models.ForeignKey(KeywordGroup, on_delete=models.CASCADE, related_name="checks")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="keyword_checks")
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "article"], name="keyword_check_once")]


class KeywordAlertQuerySet(models.QuerySet):
    def for_user(self, user) -> "KeywordAlertQuerySet":
        return self.filter(group__owner=user)


class KeywordAlert(models.Model):
    group = models.ForeignKey(KeywordGroup, on_delete=models.CASCADE, related_name="alerts")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="keyword_alerts")
    matched_keywords = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    is_read = models.BooleanField(default=False)

    objects = KeywordAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["group", "article"], name="keyword_alert_once")]
        indexes = [models.Index(fields=["group", "is_read", "-created_at"], name="alert_group_unread_new")]

    def __str__(self) -> str:
        return f"{self.group}: {self.article}"
