"""The offline analyzer: fetch with the guarded client, extract with trafilatura, analyze the text."""

import contextlib
import copy
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title
from trafilatura.settings import Extractor, set_date_params
from trafilatura.utils import load_html

from ..fetching import HTML_TYPES, Fetcher, FetchError
from . import LOCAL_MODEL, Analysis, AnalysisError, _text

MIN_TEXT_CHARS = 40  # less than this is a navigation page or an error page, not an article


class ExtractedPage:
    def __init__(self, url: str, title: str, text: str, published_at: datetime | None):
        self.url, self.title, self.text, self.published_at = url, title, text, published_at


@lru_cache(maxsize=2)
def _base_options(today: date) -> Extractor:
    # Built once a day (the date search refuses dates after the max_date it was built with):
    # reading trafilatura's config costs more than a small page's extraction. fast: no
    # second-opinion extractors (readability, jusText). Metadata is read separately below.
    return Extractor(output_format="python", fast=True, comments=False, with_metadata=False)


def _options_for(url: str) -> Extractor:
    options = copy.copy(_base_options(date.today()))
    options.url = options.source = url
    return options


def _title_and_date(tree, url: str) -> tuple[str, str | None]:
    """Return the page's title and publication date the way trafilatura finds them.

    Only these two of trafilatura's metadata (not author, site name, categories, licence):
    the full set costs as much CPU as the text extraction itself.
    """
    metadata = examine_meta(tree)
    # trafilatura guards this call the same way: JSON-LD in the wild is messy.
    with contextlib.suppress(Exception):
        metadata = extract_meta_json(tree, metadata)
    title = metadata.title or extract_title(tree) or ""
    published = find_date(tree, url=url, **set_date_params(False))
    return title, published


def extract(url: str, html: str) -> ExtractedPage:
    """Return the title and main text of html; AnalysisError when there is no article in it."""
    tree = load_html(html)
    if tree is None:
        raise AnalysisError("extraction empty: the page is not readable HTML")
    title, published = _title_and_date(tree, url)
    # bare_extraction prunes the tree it is given, so it runs after the metadata is read.
    document = trafilatura.bare_extraction(tree, url=url, options=_options_for(url))
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if len(text) < MIN_TEXT_CHARS:
        raise AnalysisError("extraction empty: no article text found on the page")
    return ExtractedPage(url, title.strip()[:500], text, _parse_date(published))


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
