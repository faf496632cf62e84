"""The bulk-save job: store many articles, skipping known urls, losing none silently."""

import logging

from django.db import IntegrityError, transaction

from jobs import lifecycle
from jobs.exceptions import JobCancelled
from jobs.outcomes import counted
from jobs.reporting import no_progress

from .models import Article
from .serializers import BulkArticleSerializer

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
KIND = "bulk_save"


def start_bulk_save(articles: list, owner, topic: str = "") -> str:
    """Create the task that saves articles (validated by the caller) for owner; return its id.

    topic names the job for live subscribers of /ws/progress/<topic>.
    """
    return lifecycle.create_task(
        name=f"Bulk save of {counted(len(articles), 'article')}",
        total_items=len(articles),
        owner=owner,
        kind=KIND,
        metadata={"topic": topic} if topic else {},
        params={"articles": articles},
    )


def run_bulk_save_task(articles: list, progress_callback=no_progress, batch_size: int = BATCH_SIZE) -> dict:
    """Save articles in batches; return {saved, duplicates, errors} with a reason per error."""
    outcome = {"saved": 0, "duplicates": 0, "errors": []}
    seen_urls: set[str] = set()
    processed = 0
    try:
        for start in range(0, len(articles), batch_size):
            batch = articles[start : start + batch_size]
            _save_batch(batch, start, seen_urls, outcome)
            # Progress per article, reported after its batch committed so the row never
            # claims more than the database holds.
            for offset, raw in enumerate(batch):
                processed = start + offset + 1
                progress_callback(processed, current=_url_of(raw))
    except JobCancelled as cancelled:
        cancelled.partial_result = {**outcome, "processed": processed}
        raise
    return outcome


def _url_of(raw) -> str:
    return str(raw.get("url", "")) if isinstance(raw, dict) else ""


def _save_batch(batch: list, start: int, seen_urls: set, outcome: dict) -> None:
    candidates = []
    for offset, raw in enumerate(batch):
        item = BulkArticleSerializer(data=raw if isinstance(raw, dict) else {})
        if not item.is_valid():
            outcome["errors"].append({"index": start + offset, "url": _url_of(raw), "error": _reason(item.errors)})
            continue
        url = item.validated_data["url"]
        if url in seen_urls:
            outcome["duplicates"] += 1
            continue
        seen_urls.add(url)
        candidates.append((start + offset, Article(**item.validated_data)))

    known = set(Article.objects.filter(url__in=[a.url for _, a in candidates]).values_list("url", flat=True))
    outcome["duplicates"] += sum(1 for _, a in candidates if a.url in known)
    fresh = [(index, a) for index, a in candidates if a.url not in known]
    try:
        with transaction.atomic():
            Article.objects.bulk_create([a for _, a in fresh])
        outcome["saved"] += len(fresh)
    except IntegrityError:
        # Someone else saved one of these urls since we looked: fall back to one insert
        # per article, so that one conflict costs only itself.
        for index, article in fresh:
            _save_one(index, article, outcome)


def _save_one(index: int, article: Article, outcome: dict) -> None:
    try:
        with transaction.atomic():
            article.save(force_insert=True)
        outcome["saved"] += 1
    except IntegrityError:
        if Article.objects.filter(url=article.url).exists():
            outcome["duplicates"] += 1
        else:
            outcome["errors"].append({"index": index, "url": article.url, "error": "database refused the article"})


def _reason(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
