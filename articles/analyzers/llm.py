"""The LLM analyzer: the article's text goes to an OpenAI-compatible chat-completions endpoint.

The page is fetched and extracted exactly as the local analyzer does (same SSRF guard); the
model writes the summary, sentiment, keywords and relevance. Any failure of the endpoint
(HTTP error, timeout, an answer that is not the JSON we asked for) is an AnalysisError with
the reason, so it fails that item only.
"""

import json
import re
from urllib.parse import urlsplit

import httpx

from statusmsg.conf import app_settings

from ..fetching import Fetcher
from . import Analysis, AnalysisError, _text
from .local import fetch_and_extract

MAX_PROMPT_CHARS = 12000
SUMMARY_LENGTH = {"brief": "one or two sentences", "standard": "three to four sentences",
                  "detailed": "six to eight sentences"}
SYSTEM_PROMPT = (
    "You analyze news articles. Answer with one JSON object and nothing else, with the keys: "
    '"summary" (string), "sentiment" (number from -1 to 1), "keywords" (list of up to 10 strings), '
    '"relevance" (number from 0 to 1: how relevant the article is to the topic, or null when no topic is given).'
)


class LLMAnalyzer:
    def __init__(self, model_name: str, topic: str = "", summary_type: str = "standard",
                 fetcher: Fetcher | None = None):
        self.model_name = model_name
        self.topic = topic or ""
        self.summary_type = summary_type
        self._owns_fetcher = fetcher is None  # a shared fetcher is closed by whoever made it
        self.fetcher = fetcher or Fetcher()
        self.endpoint = app_settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
        self.timeout = float(app_settings.LLM_TIMEOUT)
        headers = {"Content-Type": "application/json"}
        if app_settings.LLM_API_KEY:
            headers["Authorization"] = f"Bearer {app_settings.LLM_API_KEY}"
        self.client = httpx.Client(headers=headers, timeout=self.timeout, trust_env=False)

    def analyze(self, url: str, deadline: float | None = None) -> Analysis:
        page = fetch_and_extract(self.fetcher, url, deadline)
        answer = self._complete(self._prompt(page.title, page.text))
        fields = _parse_answer(answer)
        score = _clamp(fields.get("sentiment"), -1.0, 1.0, "sentiment")
        relevance = fields.get("relevance")
        return Analysis(
            url=url,
            title=page.title,
            content=page.text,
            summary=str(fields.get("summary") or "").strip(),
            sentiment=score,
            sentiment_label=_text.sentiment_label(score),
            keywords=[str(k) for k in fields.get("keywords") or []][:10],
            relevance=None if relevance is None or not self.topic else _clamp(relevance, 0.0, 1.0, "relevance"),
            model_used=self.model_name,
            source=urlsplit(url).hostname or "",
            published_at=page.published_at,
        )

    def _prompt(self, title: str, text: str) -> str:
        return (
            f"Topic: {self.topic or '(none)'}\n"
            f"Summary length: {SUMMARY_LENGTH[self.summary_type]}\n"
            f"Title: {title}\n\nArticle:\n{text[:MAX_PROMPT_CHARS]}"
        )

    def _complete(self, prompt: str) -> str:
        body = {
            "model": self.model_name,
            "temperature": 0,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
        }
        try:
            response = self.client.post(self.endpoint, json=body)
        except httpx.TimeoutException:
            raise AnalysisError(f"LLM timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise AnalysisError(f"LLM unreachable: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise AnalysisError(f"LLM error: HTTP {response.status_code} {_error_message(response)}".strip())
        try:
            return response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise AnalysisError("LLM error: the answer is not a chat completion") from None

    def close(self) -> None:
        self.client.close()
        if self._owns_fetcher:
            self.fetcher.close()


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        return str(error.get("message") if isinstance(error, dict) else error or "")[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


def _parse_answer(answer: str) -> dict:
    """Return the JSON object in the model's answer (fenced in ``` or not)."""
    match = re.search(r"\{.*\}", answer or "", re.DOTALL)
    try:
        fields = json.loads(match.group(0)) if match else None
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise AnalysisError("LLM error: the answer is not the JSON object asked for")
    return fields


def _clamp(value, low: float, high: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnalysisError(f"LLM error: {name} is not a number ({value!r})") from None
    return round(max(low, min(high, number)), 4)
