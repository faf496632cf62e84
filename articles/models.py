"""What the jobs work on: articles, the feeds they come from, keyword groups and their alerts.

The tables keep the names they had when these models lived in `jobs` (db_table), so that
moving the app moved no row.
"""

from django.conf import settings
from django.db import models


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
        db_table = "jobs_article"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or self.url


class FeedSource(models.Model):
    name = models.CharField(max_length=200, blank=True, default="")
    url = models.URLField(max_length=2000, unique=True)
    topic = models.CharField(max_length=200, blank=True, default="", help_text="Relevance is scored against it.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "jobs_feedsource"
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
        db_table = "jobs_autoingestconfig"
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
        db_table = "jobs_keywordgroup"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeywordCheck(models.Model):
    """That group has scanned article: the next check skips it."""

    group = models.ForeignKey(KeywordGroup, on_delete=models.CASCADE, related_name="checks")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="keyword_checks")
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "jobs_keywordcheck"
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
        db_table = "jobs_keywordalert"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["group", "article"], name="keyword_alert_once")]
        indexes = [models.Index(fields=["group", "is_read", "-created_at"], name="alert_group_unread_new")]

    def __str__(self) -> str:
        return f"{self.group}: {self.article}"
