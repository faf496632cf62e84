"""Request and response shapes of the article workloads (bulk save, analysis, auto-ingest, keyword checks)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from statusmsg.conf import app_settings

from .analyzers import SUMMARY_TYPES, available_models
from .models import Article

_http_url = URLValidator(schemes=["http", "https"])


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
        limit = app_settings.MAX_BULK_ITEMS
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



class BulkAnalysisRequestSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField(max_length=2000, allow_blank=True), allow_empty=False)
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    summary_type = serializers.ChoiceField(choices=SUMMARY_TYPES, default="standard")
    model_name = serializers.CharField(
        max_length=100, required=False,
        help_text='"local" (the default, STATUSMSG_ANALYSIS_MODEL) or a model the LLM serves.')
    batch_size = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    max_concurrent = serializers.IntegerField(min_value=1, max_value=20, required=False)
    force = serializers.BooleanField(default=False, help_text="Analyze again urls already analyzed by this model.")

    def validate_urls(self, urls: list) -> list:
        limit = app_settings.MAX_BULK_ITEMS
        if len(urls) > limit:
            raise serializers.ValidationError(f"At most {limit} urls per request; got {len(urls)}.")
        errors, first_seen = {}, {}
        for index, url in enumerate(urls):
            try:
                _http_url(url)
            except DjangoValidationError:
                errors[index] = ["Enter a valid http or https URL."]
                continue
            if url in first_seen:
                errors[index] = [f"Duplicate of item {first_seen[url]}."]
            else:
                first_seen[url] = index
        if errors:
            raise serializers.ValidationError(errors)
        return urls

    def validate(self, attrs: dict) -> dict:
        model_name = attrs.get("model_name") or app_settings.ANALYSIS_MODEL
        models = available_models()
        if model_name not in models:
            raise serializers.ValidationError(
                {"model_name": [f"Unknown model {model_name!r}; available: {', '.join(models)}."]})
        return {**attrs, "model_name": model_name}


class KeywordCheckRequestSerializer(serializers.Serializer):
    group_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class TaskStartedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()


class AlreadyRunningSerializer(serializers.Serializer):
    detail = serializers.CharField()
    task_id = serializers.UUIDField()
