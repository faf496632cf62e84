"""The offline analyzer: fetch with the guarded client, extract with trafilatura, analyze the text."""

import copy
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import Extractor, set_date_params

from ..fetching import HTML_TYPES, Fetcher, FetchError
from . import LOCAL_MODEL, Analysis, AnalysisError, _text

MIN_TEXT_CHARS = 40  # less than this is a navigation page or an error page, not an article


class ExtractedPage:
    def __init__(self, url: str, title: str, text: str, published_at: datetime | None):
        self.url, self.title, self.text, self.published_at = url, title, text, published_at


@lru_cache(maxsize=2)
def _base_options(today: date) -> Extractor:
    # Built once: reading trafilatura's config costs more than a small page's extraction.
    # fast: no second-opinion extractors (readability, jusText), and a quick date search;
    # together they halve the CPU per page, which bounds throughput at high concurrency.
    return Extractor(output_format="python", fast=True, comments=False, with_metadata=True,
                     date_params=set_date_params(False))


def _options_for(url: str) -> Extractor:
    # Keyed by day: the date search refuses dates after the max_date it was built with.
    options = copy.copy(_base_options(date.today()))
    options.url = options.source = url
    return options


def extract(url: str, html: str) -> ExtractedPage:
    """Return the title and main text of html; AnalysisError when there is no article in it."""
    document = trafilatura.bare_extraction(html, url=url, options=_options_for(url))
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if len(text) < MIN_TEXT_CHARS:
        raise AnalysisError("extraction empty: no article text found on the page")
    title = (document.title or "").strip()
    return ExtractedPage(url, title[:500], text, _parse_date(document.date))


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        return None
    return day if day.tzinfo is not None else day.replace(tzinfo=UTC)


def fetch_and_extract(fetcher: Fetcher, url: str, deadline: float | None = None) -> ExtractedPage:
    try:
        page = fetcher.fetch(url, accept=HTML_TYPES, deadline=deadline)
    except FetchError as exc:
        raise AnalysisError(str(exc)) from None
    return extract(page.final_url, page.text)


class LocalAnalyzer:
    model_name = LOCAL_MODEL

    def __init__(self, topic: str = "", summary_type: str = "standard", fetcher: Fetcher | None = None):
        self.topic = topic or ""
        self.summary_type = summary_type
        self._owns_fetcher = fetcher is None  # a shared fetcher is closed by whoever made it
        self.fetcher = fetcher or Fetcher()

    def analyze(self, url: str, deadline: float | None = None) -> Analysis:
        """Fetch url and return its analysis; AnalysisError with the reason when it cannot."""
        page = fetch_and_extract(self.fetcher, url, deadline)
        return self.analyze_text(url, page)

    def analyze_text(self, url: str, page: ExtractedPage) -> Analysis:
        score, label = _text.sentiment(page.text)
        return Analysis(
            url=url,
            title=page.title,
            content=page.text,
            summary=_text.summarize(page.text, self.summary_type, page.title),
            sentiment=score,
            sentiment_label=label,
            keywords=_text.top_keywords(page.text, page.title),
            relevance=_text.relevance(self.topic, page.title, page.text),
            model_used=self.model_name,
            source=urlsplit(url).hostname or "",
            published_at=page.published_at,
        )

    def close(self) -> None:
        if self._owns_fetcher:
            self.fetcher.close()
