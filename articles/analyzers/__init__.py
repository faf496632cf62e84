"""Analyzers turn one article URL into an Analysis; which one runs is chosen by model name.

`local` needs nothing but the article itself; any name in STATUSMSG["LLM_MODELS"] goes to
the OpenAI-compatible endpoint at STATUSMSG["LLM_BASE_URL"].
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from statusmsg.conf import app_settings

LOCAL_MODEL = "local"
SUMMARY_TYPES = ("brief", "standard", "detailed")


class AnalysisError(Exception):
    """One item could not be analyzed; str() is the reason recorded for it."""


@dataclass
class Analysis:
    url: str
    title: str
    content: str
    summary: str
    sentiment: float
    sentiment_label: str
    keywords: list[str]
    relevance: float | None
    model_used: str
    source: str = ""
    published_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def llm_models() -> list[str]:
    """Return the model names the configured LLM endpoint serves (none when unconfigured)."""
    if not app_settings.LLM_BASE_URL:
        return []
    raw = app_settings.LLM_MODELS or ""
    return [name.strip() for name in raw.split(",") if name.strip()]


def available_models() -> list[str]:
    return [LOCAL_MODEL, *llm_models()]


def get_analyzer(model_name: str = LOCAL_MODEL, *, topic: str = "", summary_type: str = "standard", fetcher=None):
    """Return an analyzer for model_name; ImproperlyConfigured when no analyzer serves it."""
    if summary_type not in SUMMARY_TYPES:
        raise ImproperlyConfigured(f"unknown summary_type {summary_type!r}; use one of {', '.join(SUMMARY_TYPES)}")
    if model_name == LOCAL_MODEL:
        from .local import LocalAnalyzer

        return LocalAnalyzer(topic=topic, summary_type=summary_type, fetcher=fetcher)
    if model_name in llm_models():
        from .llm import LLMAnalyzer

        return LLMAnalyzer(model_name, topic=topic, summary_type=summary_type, fetcher=fetcher)
    raise ImproperlyConfigured(
        f"no analyzer serves model {model_name!r}; available: {', '.join(available_models())} "
        "(set STATUSMSG_LLM_BASE_URL and STATUSMSG_LLM_MODELS for an LLM)"
    )
