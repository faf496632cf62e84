"""Request and response shapes of the workload endpoints (analysis, auto-ingest, keyword checks)."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from .analyzers import SUMMARY_TYPES, available_models

_http_url = URLValidator(schemes=["http", "https"])


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
        limit = settings.STATUSMSG["MAX_BULK_ITEMS"]
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
        model_name = attrs.get("model_name") or settings.STATUSMSG["ANALYSIS_MODEL"]
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
