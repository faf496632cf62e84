"""Request and response shapes of the article workloads (bulk save, analysis, auto-ingest, keyword checks)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator, URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from statusmsg.api_input import KnownFieldsOnly, StrictIntegerField
from statusmsg.conf import app_settings

from .analyzers import SUMMARY_TYPES, available_models
from .models import Article

_http_url = URLValidator(schemes=["http", "https"])


# The longest article body one bulk-save item may carry (the request as a whole is bounded by
# DATA_UPLOAD_MAX_MEMORY_SIZE).
MAX_CONTENT_LENGTH = 200_000


# The urls the API takes: http(s), lowercase host names of up to 3 labels and a TLD (so never
# over URLValidator's 253-character host limit) or localhost or IPv4, an optional port, and RFC 3986 characters in
# path, query and fragment. The schema states this pattern and the server enforces it, so the two
# agree; URLValidator still runs after it.
_URI_CHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_HOST = rf"(?:(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.){{1,3}}[a-z]{{2,20}}|localhost|(?:{_OCTET}\.){{3}}{_OCTET})"
HTTP_URL_PATTERN = (
    rf"^https?://{_HOST}(?::[0-9]{{1,5}})?"
    rf"(?:/(?:{_URI_CHAR}|/)*)?(?:\?(?:{_URI_CHAR}|[/?])*)?(?:#(?:{_URI_CHAR}|[/?])*)?$"
)
_matches_http_url_pattern = RegexValidator(HTTP_URL_PATTERN, "Enter a valid http or https URL.")
HTTP_URL_SCHEMA = {"type": "string", "format": "uri", "pattern": HTTP_URL_PATTERN, "minLength": 1, "maxLength": 2000}


@extend_schema_field(HTTP_URL_SCHEMA)
class HttpUrlField(serializers.CharField):
    """An http(s) URL, checked with the other urls in validate_urls (so errors name the index)."""


@extend_schema_field(HTTP_URL_SCHEMA)
class HttpUrlModelField(serializers.URLField):
    """An article's url: http or https only (URLField alone also takes ftp)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [_http_url, _matches_http_url_pattern]


class BulkArticleSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    """One article of a bulk save: its known fields only; validated again per item by the job."""

    # Declared, so the model's unique validator is not: a duplicate url is the job's business.
    url = HttpUrlModelField(max_length=2000)
    published_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = Article
        fields = ["url", "title", "content", "source", "topic", "published_at"]
        extra_kwargs = {"content": {"max_length": MAX_CONTENT_LENGTH}}


# What the browsable API's form starts with: the API reads JSON only, so that form is the raw
# JSON one, and a working body shows the shape better than `"articles": []` did.
BULK_SAVE_EXAMPLE = [{"url": "https://example.com/news/1", "title": "An example article",
                      "content": "Its text.", "source": "example"}]


class BulkSaveRequestSerializer(serializers.Serializer):
    articles = serializers.ListField(
        child=BulkArticleSerializer(), allow_empty=False, min_length=1,
        initial=lambda: [dict(item) for item in BULK_SAVE_EXAMPLE],
        help_text='A JSON list of articles, each with at least a "url". The API reads JSON only: in the '
                  "browsable API, edit the example in the raw data (JSON) form below and POST it.")
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



@extend_schema_field({"type": "array", "items": HTTP_URL_SCHEMA, "minItems": 1, "uniqueItems": True})
class UrlListField(serializers.ListField):
    """The urls of a bulk analysis: at least one, no duplicates (validate_urls names them)."""


class ModelNameField(serializers.ChoiceField):
    """One of the analyzers available now: its schema lists them, its error names them."""

    def to_internal_value(self, data):
        if data not in self.choices:
            raise serializers.ValidationError(f"Unknown model {data!r}; available: {', '.join(self.choices)}.")
        return data


class BulkAnalysisRequestSerializer(serializers.Serializer):
    urls = UrlListField(child=HttpUrlField(max_length=2000), allow_empty=False, min_length=1)
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    summary_type = serializers.ChoiceField(choices=SUMMARY_TYPES, default="standard")
    model_name = serializers.CharField(required=False)  # replaced in get_fields: the models available now
    batch_size = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    max_concurrent = serializers.IntegerField(min_value=1, max_value=20, required=False)
    force = serializers.BooleanField(default=False, help_text="Analyze again urls already analyzed by this model.")

    def get_fields(self):
        fields = super().get_fields()
        fields["model_name"] = ModelNameField(
            choices=available_models(), required=False,
            help_text='"local" (the default, STATUSMSG_ANALYSIS_MODEL) or a model the LLM serves.')
        return fields

    def validate_urls(self, urls: list) -> list:
        limit = app_settings.MAX_BULK_ITEMS
        if len(urls) > limit:
            raise serializers.ValidationError(f"At most {limit} urls per request; got {len(urls)}.")
        errors, first_seen = {}, {}
        for index, url in enumerate(urls):
            try:
                _matches_http_url_pattern(url)
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
