"""Request and response shapes of the article workloads (bulk save, analysis, auto-ingest, keyword checks)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from statusmsg.api_input import KnownFieldsOnly, StrictIntegerField
from statusmsg.conf import app_settings

from .analyzers import SUMMARY_TYPES, available_models
from .models import Article

_http_url = URLValidator(schemes=["http", "https"])


# The longest article body one bulk-save item may carry (the request as a whole is bounded by
# DATA_UPLOAD_MAX_MEMORY_SIZE).
MAX_CONTENT_LENGTH = 200_000


class BulkArticleSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    """One article of a bulk save: its known fields only; validated again per item by the job."""

    published_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = Article
        fields = ["url", "title", "content", "source", "topic", "published_at"]
        extra_kwargs = {
            # Uniqueness is the job's business: a duplicate url is skipped, not refused.
            "url": {"validators": []},
            "content": {"max_length": MAX_CONTENT_LENGTH},
        }


class BulkSaveRequestSerializer(serializers.Serializer):
    articles = serializers.ListField(child=BulkArticleSerializer(), allow_empty=False, min_length=1)
    # Live subscribers of /ws/progress/<topic> follow the job by this name.
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def to_internal_value(self, data):
        # Count before validating each item: a request over the limit is refused cheaply.
        articles = data.get("articles") if isinstance(data, dict) else None
        limit = app_settings.MAX_BULK_ITEMS
        if isinstance(articles, list) and len(articles) > limit:
            raise serializers.ValidationError(
                {"articles": [f"At most {limit} articles per request; got {len(articles)}."]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        # The job stores the items as sent (JSON, validated again per item when it runs); they
        # passed validation above, unknown keys included, so they hold only known fields.
        return {**attrs, "articles": list(self.initial_data["articles"])}



class BulkAnalysisRequestSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField(max_length=2000), allow_empty=False, min_length=1)
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
    group_id = StrictIntegerField(min_value=1, required=False, allow_null=True, default=None)


class TaskStartedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()


class AlreadyRunningSerializer(serializers.Serializer):
    detail = serializers.CharField()
    task_id = serializers.UUIDField()
