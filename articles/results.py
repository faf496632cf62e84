"""A finished workload's result as people read it: one row per URL, each failure's reason in words.

The task page includes templates/articles/_analysis_results.html with task_results(task); the
raw JSON stays on the page behind a "details" toggle.
"""

import re
from dataclasses import dataclass

from jobs.models import Status, TaskInfo

from .models import Article

ANALYSIS_KIND = "bulk_analysis"
SAVE_KIND = "bulk_save"
TEMPLATE = "articles/_analysis_results.html"

# What the fetcher and the analyzers say (articles.fetching, articles.analyzers), and what it
# means to the person reading it; first match wins. The raw reason stays in the JSON details.
_REFUSED_PRIVATE = re.compile(r"^refused: (?P<host>\S+) resolves to a non-public address \((?P<address>[^)]+)\)$")
_REASONS = [
    (re.compile(r"^cannot resolve host '?(?P<host>[^':]+)'?"),
     "not found: no address for {host}; check the spelling, or the machine has no internet"),
    (re.compile(r"^timed out after (?P<seconds>[\d.]+)s$"),
     "timed out: no complete answer within {seconds} s; the site may be slow, try again later"),
    (re.compile(r"^HTTP (?P<code>4\d\d)\b(?P<phrase>.*)$"),
     "the site answered {code}{phrase}: the page is missing or not public"),
    (re.compile(r"^HTTP (?P<code>5\d\d)\b(?P<phrase>.*)$"),
     "the site answered {code}{phrase}: its server failed, try again later"),
    (re.compile(r"^unsupported content type '(?P<type>[^']*)'"),
     "not an article: the URL gives {type}, not a web page"),
    (re.compile(r"^too large: "), "too large: the page is over the size limit (STATUSMSG_FETCH_MAX_BYTES)"),
    (re.compile(r"^too many redirects"), "too many redirects: the site keeps sending us elsewhere"),
    (re.compile(r"^extraction empty"),
     "no article text found on the page (a menu, a login wall or a script-only page)"),
    (re.compile(r"^connection failed"), "could not connect: the site refused or dropped the connection"),
    (re.compile(r"^only http and https URLs"), "refused: only http and https URLs are fetched"),
]


@dataclass(frozen=True)
class ResultRow:
    url: str
    outcome: str  # analyzed | skipped | failed | saved | duplicate | error
    article: Article | None = None
    reason: str = ""


def reason_in_words(error: str) -> str:
    """Return a per-URL failure reason as a sentence a user can act on."""
    error = (error or "").strip() or "failed for an unknown reason"
    private = _REFUSED_PRIVATE.match(error)
    if private:
        host, address = private["host"], private["address"]
        named = host if host == address else f"{host} ({address})"
        return f"refused: {named} is a private address; allow it with STATUSMSG_FETCH_ALLOW_HOSTS"
    for pattern, words in _REASONS:
        match = pattern.match(error)
        if match:
            return words.format(**{key: value or "" for key, value in match.groupdict().items()})
    return error


def analysis_rows(result: dict) -> list[ResultRow]:
    """Return a bulk analysis result's rows: failures first (they need attention), then the articles."""
    errors = [ResultRow(str(entry.get("url", "")), "failed", reason=reason_in_words(str(entry.get("error", ""))))
              for entry in result.get("errors") or [] if isinstance(entry, dict)]
    skipped_urls = {entry.get("url") for entry in result.get("skipped_urls") or [] if isinstance(entry, dict)}
    ids = [pk for pk in result.get("articles") or [] if isinstance(pk, int)]
    articles = Article.objects.in_bulk(ids)
    rows = []
    for pk in dict.fromkeys(ids):
        article = articles.get(pk)
        if article is None:
            continue  # deleted since: nothing to link to
        rows.append(ResultRow(article.url, "skipped" if article.url in skipped_urls else "analyzed", article,
                              "already analyzed by this model" if article.url in skipped_urls else ""))
    return errors + rows


def save_rows(result: dict) -> list[ResultRow]:
    """Return a bulk save's error rows (saved and duplicate articles are counted, not listed, by the job)."""
    return [ResultRow(str(entry.get("url", "")) or f"item {entry.get('index', '?')}", "error",
                      reason=str(entry.get("error", "")))
            for entry in result.get("errors") or [] if isinstance(entry, dict)]


def task_results(task: TaskInfo) -> dict | None:
    """Return the context of _analysis_results.html for a workload's task, or None when there is nothing to show."""
    result = task.result if isinstance(task.result, dict) else None
    if task.kind == ANALYSIS_KIND:
        rows = analysis_rows(result) if result else []
        counts = {key: int((result or {}).get(key) or 0) for key in ("analyzed", "skipped", "failed")}
        not_processed = int((result or {}).get("not_processed") or 0)
    elif task.kind == SAVE_KIND and result:
        rows = save_rows(result)
        counts = {"saved": int(result.get("saved") or 0), "duplicate": int(result.get("duplicates") or 0),
                  "error": len(rows)}
        not_processed = 0
    else:
        return None
    if result is None and task.status != Status.FAILED:
        return None
    return {
        "template": TEMPLATE,
        "task_id": str(task.pk),
        "kind": task.kind,
        "rows": rows,
        "counts": [(name, count) for name, count in counts.items() if count or name in ("analyzed", "saved")],
        "failed": counts.get("failed", 0) + counts.get("error", 0),
        "not_processed": not_processed,
        # A finished analysis with failed URLs can run them again (articles.retry).
        "retry_count": len(retryable_urls(task)),
    }


def retryable_urls(task: TaskInfo) -> list[str]:
    """Return the URLs of a finished analysis that failed, in their first order, once each.

    A task that failed as a whole without a result (its analyzer could not be built, its
    worker was lost) failed every URL it was given.
    """
    if task.kind != ANALYSIS_KIND or not task.is_finished:
        return []
    result = task.result if isinstance(task.result, dict) else None
    if result is None:
        return list(dict.fromkeys((task.params or {}).get("urls") or [])) if task.status == Status.FAILED else []
    return list(dict.fromkeys(str(entry["url"]) for entry in result.get("errors") or []
                              if isinstance(entry, dict) and entry.get("url")))
