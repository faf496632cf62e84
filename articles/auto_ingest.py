"""Auto-ingest: read the enabled feeds, analyze the new articles in batches, keep the good ones.

Start it with start_auto_ingest (the API and the schedule both do); never two at once.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
from django.db import transaction
from django.utils import timezone

from jobs import lifecycle
from jobs.exceptions import JobCancelled
from jobs.models import Status, TaskInfo
from jobs.reporting import no_progress, report_batch, set_total
from statusmsg.conf import app_settings

from .analysis import save_analysis
from .analysis_queue import AnalysisQueue
from .analyzers import Analysis, AnalysisError, get_analyzer
from .exceptions import AutoIngestAlreadyRunning
from .fetching import FEED_TYPES, Fetcher, FetchError
from .keyword_checks import start_keyword_check
from .models import Article, AutoIngestConfig, FeedSource

logger = logging.getLogger(__name__)

KIND = "auto_ingest"
MAX_ENTRIES_PER_FEED = 200


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    feed_id: int
    topic: str
    source: str
    published_at: datetime | None


def start_auto_ingest(owner=None) -> str:
    """Create the auto-ingest task and return its id; AutoIngestAlreadyRunning if one is unfinished."""
    with transaction.atomic():
        # Lock the settings row: two starts serialize here, so the second sees the first's task.
        # (On SQLite select_for_update is a no-op, but the IMMEDIATE transaction already holds
        # the database's write lock from BEGIN.)
        AutoIngestConfig.load()
        AutoIngestConfig.objects.select_for_update().get(pk=AutoIngestConfig.SINGLETON_PK)
        running = TaskInfo.objects.filter(kind=KIND, status__in=(Status.PENDING, Status.RUNNING)).first()
        if running is not None:
            raise AutoIngestAlreadyRunning(running.pk)
        return lifecycle.create_task(
            name="Auto-collect articles from feeds",
            kind=KIND,
            owner=owner,
            params={"username": owner.get_username() if owner is not None else None},
        )


def run_scheduled_auto_ingest() -> str | None:
    """Entry of the django-q2 schedule: start a run if auto-ingest is enabled and none is going."""
    if not AutoIngestConfig.load().enabled:
        return None
    try:
        return str(start_auto_ingest(owner=None))
    except AutoIngestAlreadyRunning as busy:
        logger.info("auto-ingest already running task id=%s; schedule skipped", busy.task_id)
        return None


def run_auto_ingest_task(progress_callback=no_progress, username: str | None = None) -> dict:
    """Fetch the enabled feeds, analyze new articles, keep approved ones; return the counts.

    username (who started the run) is kept in the task's params for the record; the
    "Auto-Collect Complete" notification is told by articles.outcomes, with the final state,
    so a run that is cancelled or fails after its work never claims to be complete.
    """
    config = AutoIngestConfig.load()
    outcome = {"feeds": 0, "feed_errors": [], "discovered": 0, "new": 0, "processed": 0, "approved": 0,
               "rejected": 0, "failed": 0, "articles": [], "errors": [], "rejections": []}
    fetcher = Fetcher()
    try:
        entries = _collect_entries(fetcher, outcome, progress_callback)
        set_total(progress_callback, len(entries))
        _analyze_entries(entries, config, fetcher, outcome, progress_callback)
    except JobCancelled as cancelled:
        cancelled.partial_result = outcome
        raise
    finally:
        fetcher.close()
    _start_keyword_check_if_new(outcome)
    return outcome


def _collect_entries(fetcher: Fetcher, outcome: dict, progress_callback) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for feed in FeedSource.objects.filter(enabled=True):
        progress_callback(0, current=feed.url)  # also where a cancel during feed reading lands
        outcome["feeds"] += 1
        try:
            found = _read_feed(fetcher, feed)
        except FetchError as exc:
            outcome["feed_errors"].append({"url": feed.url, "error": str(exc)})
            FeedSource.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now(), last_error=str(exc))
            continue
        FeedSource.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now(), last_error="")
        for entry in found:
            entries.setdefault(entry.url, entry)
    outcome["discovered"] = len(entries)
    known = set(Article.objects.filter(url__in=list(entries)).values_list("url", flat=True))
    fresh = [entry for url, entry in entries.items() if url not in known]
    outcome["new"] = len(fresh)
    return fresh


def _read_feed(fetcher: Fetcher, feed: FeedSource) -> list[Entry]:
    page = fetcher.fetch(feed.url, accept=FEED_TYPES)
    parsed = feedparser.parse(page.body, response_headers={"content-location": page.final_url,
                                                           "content-type": page.content_type})
    if parsed.bozo and not parsed.entries:
        raise FetchError(f"not a readable feed: {parsed.get('bozo_exception') or 'no entries'}")
    source = feed.name or parsed.feed.get("title", "") or feed.url
    found = []
    for item in parsed.entries[:MAX_ENTRIES_PER_FEED]:
        link = (item.get("link") or "").strip()
        if not link.startswith(("http://", "https://")):
            continue
        found.append(Entry(url=link, title=item.get("title", ""), feed_id=feed.pk, topic=feed.topic,
                           source=source[:200], published_at=_entry_date(item)))
    return found


def _entry_date(item) -> datetime | None:
    parsed = item.get("published_parsed") or item.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def _analyze_entries(entries: list[Entry], config: AutoIngestConfig, fetcher: Fetcher, outcome: dict,
                     progress_callback) -> None:
    batch_size = max(1, config.batch_size)
    batches = [entries[start:start + batch_size] for start in range(0, len(entries), batch_size)]
    analyzers = {}
    item_timeout = _item_timeout()

    def analyzer_for(topic: str):
        # One analyzer per feed topic; all share the fetcher (it is thread-safe).
        if topic not in analyzers:
            analyzers[topic] = get_analyzer(_model_name(), topic=topic, summary_type="standard", fetcher=fetcher)
        return analyzers[topic]

    for entry in entries:
        analyzer_for(entry.topic)  # built here, in one thread, before the workers start

    def analyze_batch(batch: list[Entry], deadline: float) -> list[tuple[Entry, Analysis | None, str | None]]:
        results = []
        for entry in batch:
            # Each entry gets the per-item timeout, within what is left of the batch's.
            entry_deadline = min(deadline, time.monotonic() + item_timeout)
            try:
                results.append((entry, analyzer_for(entry.topic).analyze(entry.url, entry_deadline), None))
            except AnalysisError as exc:
                results.append((entry, None, str(exc)))
        return results

    # Batches run side by side (max_concurrent_batches); within a batch, one item after another.
    work_queue = AnalysisQueue(analyze_batch, max_concurrent=max(1, config.max_concurrent_batches),
                               item_timeout=item_timeout * batch_size)
    try:
        _judge_batches(work_queue.run(batches), len(batches), config, outcome, progress_callback)
    finally:
        for analyzer in analyzers.values():
            analyzer.close()


def _judge_batches(batch_outcomes, total_batches: int, config: AutoIngestConfig, outcome: dict,
                   progress_callback) -> None:
    for done, batch_outcome in enumerate(batch_outcomes, start=1):
        if batch_outcome.ok:
            results = batch_outcome.value
        else:  # the whole batch ran out of time: each of its entries fails with that reason
            results = [(entry, None, batch_outcome.error) for entry in batch_outcome.item]
        approved_before = outcome["approved"]
        for entry, analysis, error in results:
            _judge(entry, analysis, error, config, outcome)
            outcome["processed"] += 1
            progress_callback(outcome["processed"], current=entry.url)
        report_batch(progress_callback, done, total_batches, approved=outcome["approved"] - approved_before,
                     processed=outcome["processed"])


def _judge(entry: Entry, analysis: Analysis | None, error: str | None, config: AutoIngestConfig,
           outcome: dict) -> None:
    """Keep, reject (with the reason) or fail one entry."""
    if analysis is None:
        outcome["failed"] += 1
        outcome["errors"].append({"url": entry.url, "error": error})
        return
    reason = _rejection(analysis, config)
    if reason:
        outcome["rejected"] += 1
        outcome["rejections"].append({"url": entry.url, "reason": reason})
        return
    if not analysis.title:
        analysis.title = entry.title
    if analysis.published_at is None:
        analysis.published_at = entry.published_at
    analysis.source = entry.source
    try:
        article = save_analysis(analysis, entry.topic)
    except Exception as exc:  # one row the database refuses costs only that entry
        logger.exception("auto-ingest save failed url=%s", entry.url)
        outcome["failed"] += 1
        outcome["errors"].append({"url": entry.url, "error": f"could not save: {type(exc).__name__}"})
        return
    outcome["approved"] += 1
    outcome["articles"].append(article.pk)


def _rejection(analysis: Analysis, config: AutoIngestConfig) -> str | None:
    if analysis.relevance is not None and analysis.relevance < config.min_relevance_threshold:
        return f"below relevance threshold ({analysis.relevance:.2f} < {config.min_relevance_threshold:.2f})"
    if config.quality_control_enabled:
        if not analysis.title.strip() and not analysis.summary.strip():
            return "quality control: no title and no summary"
        if len(analysis.content.strip()) < config.min_content_length:
            length = len(analysis.content.strip())
            return f"quality control: too short ({length} < {config.min_content_length} characters)"
    return None


def _model_name() -> str:
    return app_settings.ANALYSIS_MODEL


def _item_timeout() -> float:
    return float(app_settings.ANALYSIS_ITEM_TIMEOUT)


def _start_keyword_check_if_new(outcome: dict) -> None:
    if outcome["approved"]:
        # New articles are what keyword groups watch for: check them now, not at the next start.
        start_keyword_check(group_id=None, owner=None)
