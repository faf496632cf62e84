"""The forms of the article pages: the article list's filters, a new bulk analysis, the auto-ingest settings."""

import re

from django import forms

from statusmsg.conf import app_settings

from .analyzers import SUMMARY_TYPES, available_models
from .models import AutoIngestConfig
from .reading_serializers import SENTIMENTS
from .serializers import BulkAnalysisRequestSerializer

MAX_URL_FILE_BYTES = 1024 * 1024  # a text file of URLs; MAX_BULK_ITEMS long URLs fit easily
_DUPLICATE_OF_ITEM = re.compile(r"^Duplicate of item (\d+)\.$")


class ArticleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    topic = forms.ChoiceField(required=False)
    sentiment = forms.ChoiceField(required=False, choices=[("", "any sentiment"), *((s, s) for s in SENTIMENTS)])
    min_relevance = forms.FloatField(required=False, min_value=0, max_value=1, label="Relevance at least",
                                     widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "0 to 1"}))

    def __init__(self, *args, topics: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", "any topic"), *((topic, topic) for topic in topics)]

    def filters(self) -> dict:
        """Return the valid filters as search_articles takes them; a bad one is dropped (and shown as an error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "topic": data.get("topic") or "",
            "sentiment": data.get("sentiment") or "",
            "min_relevance": data.get("min_relevance"),
        }


class BulkAnalysisForm(forms.Form):
    """What the bulk-analysis API takes, as a page form; its rules are the API serializer's own."""

    urls = forms.CharField(required=False, label="URLs", help_text="One per line.",
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))
    urls_file = forms.FileField(required=False, label="…or a text file of URLs",
                                widget=forms.ClearableFileInput(attrs={"accept": ".txt,text/plain"}),
                                help_text="One URL per line; added to those above.")
    topic = forms.CharField(required=False, max_length=200,
                            help_text="Relevance is scored against it; live subscribers follow the job by it.")
    summary_type = forms.ChoiceField(choices=[(name, name) for name in SUMMARY_TYPES], initial="standard")
    model_name = forms.ChoiceField(label="Model")
    force = forms.BooleanField(required=False, label="Analyze again URLs this model has already analyzed")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Read per form: the configured LLM models can change with the settings.
        models = available_models()
        self.fields["model_name"].choices = [(name, name) for name in models]
        self.fields["model_name"].initial = app_settings.ANALYSIS_MODEL if app_settings.ANALYSIS_MODEL in models \
            else models[0]
        self.fields["urls"].help_text = f"One per line, at most {app_settings.MAX_BULK_ITEMS}."

    def clean_urls_file(self) -> list[str]:
        upload = self.cleaned_data.get("urls_file")
        if not upload:
            return []
        if upload.size > MAX_URL_FILE_BYTES:
            raise forms.ValidationError(f"The file is too large: at most {MAX_URL_FILE_BYTES // 1024} KiB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text; upload a plain text file of URLs.") from None
        return _lines(text)

    def clean(self) -> dict:
        cleaned = super().clean()
        urls = _lines(cleaned.get("urls") or "") + list(cleaned.get("urls_file") or [])
        if not urls and not self.has_error("urls_file"):
            self.add_error("urls", "Enter at least one URL, or upload a file of them.")
            return cleaned
        request = BulkAnalysisRequestSerializer(data={
            "urls": urls,
            "topic": cleaned.get("topic") or "",
            "summary_type": cleaned.get("summary_type") or "standard",
            "model_name": cleaned.get("model_name") or app_settings.ANALYSIS_MODEL,
            "force": bool(cleaned.get("force")),
        })
        if not request.is_valid():
            for field, errors in request.errors.items():
                self._add_api_errors(field, errors, urls)
            return cleaned
        return {**cleaned, **request.validated_data}

    def _add_api_errors(self, field: str, errors, urls: list[str]) -> None:
        """Show the serializer's errors next to the form's fields; a URL's by its line and text."""
        target = field if field in self.fields else None
        if field == "urls" and isinstance(errors, dict):
            for index, messages in sorted(errors.items(), key=lambda item: int(item[0])):
                line = int(index)
                for message in messages:
                    # The API counts items from 0; a person counts lines from 1.
                    message = _DUPLICATE_OF_ITEM.sub(lambda match: f"Duplicate of line {int(match[1]) + 1}.", message)
                    self.add_error("urls", f"Line {line + 1} ({_shorten(urls[line])}): {message}")
            return
        for message in errors if isinstance(errors, list) else [errors]:
            self.add_error(target, str(message))


class AutoIngestConfigForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    class Meta:
        model = AutoIngestConfig
        fields = ["enabled", "quality_control_enabled", "min_relevance_threshold", "min_content_length",
                  "batch_size", "max_concurrent_batches"]
        widgets = {"min_relevance_threshold": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"})}

    def clean_min_relevance_threshold(self) -> float:
        value = self.cleaned_data["min_relevance_threshold"]
        if not 0 <= value <= 1:
            raise forms.ValidationError("Enter a number from 0 to 1.")
        return value

    def clean_batch_size(self) -> int:
        return _at_least_one(self.cleaned_data["batch_size"])

    def clean_max_concurrent_batches(self) -> int:
        return _at_least_one(self.cleaned_data["max_concurrent_batches"])


def _at_least_one(value: int) -> int:
    if value < 1:
        raise forms.ValidationError("Enter 1 or more.")
    return value


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _shorten(url: str, limit: int = 60) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
