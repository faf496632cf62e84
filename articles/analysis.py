"""The bulk-analysis job: analyze many URLs through the AnalysisQueue and keep the results.

Every URL ends analyzed (saved on Article), failed (with its reason) or skipped (already
analyzed by the same model for the same topic, unless force). Only this thread writes to
the database and reports progress; the queue's workers only fetch and analyze.
"""

import logging

from django.utils import timezone

from jobs import lifecycle
from jobs.exceptions import JobCancelled
from jobs.models import Status
from jobs.outcomes import counted
from jobs.reporting import no_progress, report_batch

from .analysis_queue import AnalysisQueue
from .analyzers import Analysis, AnalysisError, get_analyzer
from .exceptions import AllItemsFailed
from .models import Article

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 10
KIND = "bulk_analysis"
# What the job takes from a request, beside the urls; the rest of a request is the caller's.
OPTIONS = ("topic", "summary_type", "model_name", "batch_size", "force", "max_concurrent")


def start_bulk_analysis(urls: list, owner, retry_of: str | None = None, **options) -> str:
    """Create the task that analyzes urls (validated by the caller) for owner; return its id.

    options are those of run_bulk_analysis_task (topic, summary_type, model_name, batch_size,
    force, max_concurrent); the topic and the analysis settings are shown as the task's metadata,
    and retry_of names the task whose failed URLs these are.
    """
    params = {"urls": urls, **{key: value for key, value in options.items() if key in OPTIONS and value is not None}}
    metadata = {key: params[key] for key in ("topic", "summary_type", "model_name", "batch_size") if key in params}
    if retry_of:
        metadata["retry_of"] = retry_of
    return lifecycle.create_task(
        name=f"Retry of {counted(len(urls), 'failed URL')}" if retry_of
        else f"Bulk analysis of {counted(len(urls), 'URL')}",
        total_items=len(urls),
        owner=owner,
        kind=KIND,
        metadata=metadata,
        params=params,
    )


def save_analysis(analysis: Analysis, topic: str = "") -> Article:
    """Insert or update the Article for analysis.url with the analysis fields."""
    fields = {
        "title": analysis.title[:500],
        "content": analysis.content,
        "summary": analysis.summary,
        "sentiment": analysis.sentiment,
        "sentiment_label": analysis.sentiment_label,
        "keywords": analysis.keywords,
        "relevance": analysis.relevance,
        "model_used": analysis.model_used,
        "analyzed_at": timezone.now(),
        "source": analysis.source[:200],
        "topic": (topic or "")[:200],
    }
    if analysis.published_at is not None:
        fields["published_at"] = analysis.published_at
    # One INSERT ... ON CONFLICT (url) DO UPDATE: atomic against a concurrent save of the same
    # url, and a third of the cost of update_or_create's locked SELECT plus write.
    (article,) = Article.objects.bulk_create(
        [Article(url=analysis.url, **fields)], update_conflicts=True, unique_fields=["url"],
        update_fields=list(fields),
    )
    return article


def run_bulk_analysis_task(
    urls: list,
    topic: str = "",
    summary_type: str = "standard",
    model_name: str = "local",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_concurrent: int | None = None,
    max_queue_size: int | None = None,
    item_timeout: float | None = None,
    force: bool = False,
    progress_callback=no_progress,
) -> dict:
    """Analyze urls; return {analyzed, failed, skipped, articles, errors, skipped_urls}.

    Raise AllItemsFailed (carrying that result) when every URL failed.
    """
    outcome = {"analyzed": 0, "failed": 0, "skipped": 0, "articles": [], "errors": [], "skipped_urls": []}
    urls = list(dict.fromkeys(urls))  # the API refuses duplicates; a direct caller gets them once
    batch_size = max(1, int(batch_size))
    total_batches = -(-len(urls) // batch_size)
    processed = 0
    # An analyzer that cannot be built (unknown model, LLM not configured) is the one case
    # where the job cannot go on at all: let it fail the job with that reason.
    analyzer = get_analyzer(model_name, topic=topic, summary_type=summary_type)

    already_done = {} if force else _already_analyzed(urls, analyzer.model_name, topic)
    to_analyze = [url for url in urls if url not in already_done]
    work_queue = AnalysisQueue(analyzer.analyze, max_concurrent=max_concurrent, max_queue_size=max_queue_size,
                               item_timeout=item_timeout, expected_errors=(AnalysisError,))

    def advance(url: str) -> None:
        nonlocal processed
        processed += 1
        progress_callback(processed, current=url)
        if processed % batch_size == 0 or processed == len(urls):
            report_batch(progress_callback, -(-processed // batch_size), total_batches,
                         analyzed=outcome["analyzed"], failed=outcome["failed"], skipped=outcome["skipped"])

    try:
        for url in urls:
            if url in already_done:
                outcome["skipped"] += 1
                outcome["articles"].append(already_done[url])
                outcome["skipped_urls"].append({"url": url, "reason": f"already analyzed by {analyzer.model_name}"})
                advance(url)
        for item in work_queue.run(to_analyze):
            _record(outcome, item, topic)
            advance(item.item)
    except JobCancelled as cancelled:
        work_queue.stop()
        cancelled.partial_result = {**outcome, "processed": processed, "not_processed": len(urls) - processed}
        raise
    finally:
        analyzer.close()
    if urls and outcome["failed"] == len(urls):
        # Nothing was analyzed: "completed" would be a lie. The job fails, keeping every reason.
        raise AllItemsFailed(f"all {counted(len(urls), 'URL')} failed", partial_result=outcome)
    return outcome


def merge_chunks(chunks: list) -> dict:
    """Return a group's analysis result from its chunks' (jobs.groups.Chunk): counts added, lists joined.

    A chunk that failed (its worker lost on every attempt, or stopped) counts the URLs it did not
    reach as failed, each with the chunk's reason, so a retry of the failed URLs takes them too;
    a cancelled chunk counts them as not processed.
    """
    outcome = {"analyzed": 0, "failed": 0, "skipped": 0, "articles": [], "errors": [], "skipped_urls": []}
    not_processed = 0
    for chunk in chunks:
        result = chunk.result or {}
        for key in ("analyzed", "failed", "skipped"):
            outcome[key] += int(result.get(key) or 0)
        for key in ("articles", "errors", "skipped_urls"):
            outcome[key].extend(result.get(key) or [])
        unreached = _unreached(chunk.items, result)
        if chunk.status == Status.FAILED:
            outcome["failed"] += len(unreached)
            outcome["errors"].extend({"url": url, "error": chunk.error} for url in unreached)
        elif chunk.status == Status.CANCELLED:
            not_processed += len(unreached)
    if not_processed:
        outcome["not_processed"] = not_processed
    return outcome


def _unreached(urls: list, result: dict) -> list:
    """Return the urls of a chunk that its (partial) result does not account for, in order."""
    if not result:
        return list(urls)
    reached = {entry.get("url") for entry in result.get("errors") or [] if isinstance(entry, dict)}
    reached |= {entry.get("url") for entry in result.get("skipped_urls") or [] if isinstance(entry, dict)}
    reached |= set(Article.objects.filter(pk__in=result.get("articles") or []).values_list("url", flat=True))
    return [url for url in urls if url not in reached]


def _already_analyzed(urls: list, model_name: str, topic: str) -> dict[str, int]:
    """Return {url: article id} of the urls this model already analyzed for this topic."""
    return dict(Article.objects.filter(url__in=urls, model_used=model_name, topic=topic or "",
                                       analyzed_at__isnull=False).values_list("url", "pk"))


def _record(outcome: dict, item, topic: str) -> None:
    """Save one analyzed item's article, or record why it failed."""
    if not item.ok:
        _record_failure(outcome, item.item, item.error)
        return
    try:
        article = save_analysis(item.value, topic)
    except Exception as exc:  # one row the database refuses costs only that item
        logger.exception("saving analysis failed url=%s", item.item)
        _record_failure(outcome, item.item, f"could not save: {type(exc).__name__}")
    else:
        outcome["analyzed"] += 1
        outcome["articles"].append(article.pk)


def _record_failure(outcome: dict, url: str, reason: str) -> None:
    outcome["failed"] += 1
    outcome["errors"].append({"url": url, "error": reason})
