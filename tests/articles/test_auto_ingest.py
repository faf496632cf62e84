"""Auto-ingest end to end against local RSS and Atom feeds: threshold, quality control, one notice."""

import pytest
from django.utils import timezone
from django_q.models import Schedule

from articles import auto_ingest
from articles.auto_ingest import run_auto_ingest_task, start_auto_ingest
from articles.exceptions import AutoIngestAlreadyRunning
from articles.models import Article, AutoIngestConfig, FeedSource
from jobs.exceptions import JobCancelled
from jobs.models import Status, TaskInfo
from jobs.worker import run_task
from notifications.models import Notification
from tests.factories import Recorder

from .sites import SOLAR_TITLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def feeds(site):
    FeedSource.objects.create(name="Example RSS", url=site.url("/feeds/rss.xml"), topic="solar energy")
    FeedSource.objects.create(name="Example Atom", url=site.url("/feeds/atom.xml"), topic="solar energy")
    FeedSource.objects.create(name="Switched off", url=site.url("/feeds/never.xml"), enabled=False)
    return site


def configure(**fields):
    config = AutoIngestConfig.load()
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config


def test_auto_ingest_keeps_relevant_quality_articles_and_reports_the_rest(feeds, user):
    site = feeds
    configure(min_relevance_threshold=0.3, quality_control_enabled=True, min_content_length=300,
              batch_size=2, max_concurrent_batches=2)
    recorder = Recorder()
    result = run_auto_ingest_task(recorder, username=user.username)

    # Atom (read first, by name): football, short, solar; RSS: solar again (one url, analyzed once), flood, missing.
    assert result["feeds"] == 2 and result["discovered"] == 5 and result["new"] == 5
    assert result["processed"] == 5
    assert result["approved"] == 1 and result["rejected"] == 3 and result["failed"] == 1
    assert Article.objects.count() == 1
    solar = Article.objects.get()
    assert solar.url == site.article("solar") and solar.title == SOLAR_TITLE
    assert solar.source == "Example Atom" and solar.topic == "solar energy" and solar.relevance >= 0.3
    assert result["articles"] == [solar.pk]

    reasons = {r["url"]: r["reason"] for r in result["rejections"]}
    assert reasons[site.article("flood")].startswith("below relevance threshold (0.00 < 0.30)")
    assert reasons[site.article("football")].startswith("below relevance threshold")
    assert reasons[site.article("short")].startswith("quality control: too short")
    assert result["errors"] == [{"url": site.article("missing"), "error": "HTTP 404 NOT FOUND"}]

    # Progress per article, batch updates for the 3 batches of 2, the total learnt from the feeds.
    assert recorder.total_items == 5
    assert [p for p, _ in recorder.calls if p] == [1, 2, 3, 4, 5]
    assert [(done, total) for done, total, _ in recorder.batches] == [(1, 3), (2, 3), (3, 3)]
    # The job function itself tells nobody: the outcome is told when the row ends (below).
    assert not Notification.objects.exists()


def test_a_run_with_an_owner_ends_with_exactly_one_auto_collect_complete_notice(feeds, user):
    configure(min_relevance_threshold=0.3, quality_control_enabled=True, min_content_length=300)
    task_id = start_auto_ingest(owner=user)
    assert run_task(str(task_id)) == Status.COMPLETED

    [notice] = Notification.objects.all()
    assert notice.user == user and notice.type == "auto_ingest_complete"
    assert notice.title == "Auto-Collect Complete" and notice.link == "/keyword-alerts"
    assert notice.message == "Processed 5 new articles: 1 approved, 3 rejected, 1 failed."


def test_a_run_that_fails_after_its_work_says_failed_and_never_complete(feeds, user, monkeypatch):
    configure(min_relevance_threshold=0.0, quality_control_enabled=False)

    def broken_start(**kwargs):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(auto_ingest, "start_keyword_check", broken_start)
    task_id = start_auto_ingest(owner=user)
    assert run_task(str(task_id)) == Status.FAILED

    [notice] = Notification.objects.all()
    assert notice.user == user and notice.type == "task_failed"
    assert "queue unavailable" in notice.message


def test_a_cancelled_run_says_cancelled_and_never_complete(feeds, user):
    task_id = start_auto_ingest(owner=user)
    # Asked to stop before its first progress write: the worker stops it there.
    TaskInfo.objects.filter(pk=task_id).update(cancel_requested_at=timezone.now())
    assert run_task(str(task_id)) == Status.CANCELLED

    [notice] = Notification.objects.all()
    assert notice.user == user and notice.type == "task_cancelled"


def test_a_scheduled_run_tells_everyone_only_when_it_approved_articles(feeds, user, other_user):
    configure(enabled=True, min_relevance_threshold=0.3, quality_control_enabled=True, min_content_length=300)
    first = auto_ingest.run_scheduled_auto_ingest()
    assert run_task(first) == Status.COMPLETED
    [notice] = Notification.objects.all()
    assert notice.user is None and notice.type == "auto_ingest_complete"  # everyone's
    assert "1 approved" in notice.message

    second = auto_ingest.run_scheduled_auto_ingest()
    assert run_task(second) == Status.COMPLETED
    assert TaskInfo.objects.get(pk=second).result["approved"] == 0
    assert Notification.objects.count() == 1  # nothing new: nobody is told


def test_quality_control_off_lets_short_articles_through(feeds):
    configure(min_relevance_threshold=0.3, quality_control_enabled=False)
    result = run_auto_ingest_task()
    assert result["approved"] == 2
    assert set(Article.objects.values_list("url", flat=True)) == {feeds.article("solar"), feeds.article("short")}


def test_threshold_zero_keeps_every_readable_article(feeds):
    configure(min_relevance_threshold=0.0, quality_control_enabled=False)
    result = run_auto_ingest_task()
    assert result["approved"] == 4 and result["failed"] == 1 and result["rejected"] == 0


def test_known_urls_are_dropped_before_analysis(feeds):
    configure(min_relevance_threshold=0.0, quality_control_enabled=False)
    Article.objects.create(url=feeds.article("flood"), title="Already here")
    result = run_auto_ingest_task()
    assert result["discovered"] == 5 and result["new"] == 4
    assert Article.objects.get(url=feeds.article("flood")).title == "Already here"
    assert run_auto_ingest_task()["new"] == 1  # only the 404 is still unknown


def test_a_broken_or_refused_feed_is_recorded_and_the_others_still_run(feeds):
    FeedSource.objects.create(name="Broken", url=feeds.url("/feeds/broken.xml"))
    FeedSource.objects.create(name="Private", url="http://10.0.0.8/rss")
    result = run_auto_ingest_task()
    errors = {e["url"]: e["error"] for e in result["feed_errors"]}
    assert errors[feeds.url("/feeds/broken.xml")].startswith("unsupported content type 'text/plain'")
    assert "non-public address" in errors["http://10.0.0.8/rss"]
    assert FeedSource.objects.get(name="Private").last_error == errors["http://10.0.0.8/rss"]
    assert result["approved"] == 1


def test_cancel_during_auto_ingest_keeps_the_partial_result(feeds):
    configure(min_relevance_threshold=0.0, quality_control_enabled=False, batch_size=1, max_concurrent_batches=1)

    def progress(processed, current=None):
        if processed == 2:
            raise JobCancelled()

    with pytest.raises(JobCancelled) as cancelled:
        run_auto_ingest_task(progress)
    assert cancelled.value.partial_result["processed"] == 2


def test_a_second_start_while_one_is_unfinished_is_refused_with_its_id(user, other_user):
    first = start_auto_ingest(owner=user)
    with pytest.raises(AutoIngestAlreadyRunning) as busy:
        start_auto_ingest(owner=other_user)
    assert busy.value.task_id == first
    assert TaskInfo.objects.filter(kind="auto_ingest").count() == 1
    TaskInfo.objects.filter(pk=first).update(status=Status.COMPLETED)
    assert start_auto_ingest(owner=user) != first


def test_the_schedule_exists_and_starts_a_run_only_when_enabled():
    schedule = Schedule.objects.get(name="auto-ingest")
    assert schedule.func == "articles.auto_ingest.run_scheduled_auto_ingest" and schedule.minutes == 60

    assert auto_ingest.run_scheduled_auto_ingest() is None
    assert not TaskInfo.objects.filter(kind="auto_ingest").exists()

    configure(enabled=True)
    task_id = auto_ingest.run_scheduled_auto_ingest()
    task = TaskInfo.objects.get(kind="auto_ingest")
    assert str(task.pk) == task_id and task.owner is None
    assert auto_ingest.run_scheduled_auto_ingest() is None  # one is pending: no second


def test_the_config_is_a_singleton():
    AutoIngestConfig(enabled=True).save()
    AutoIngestConfig(batch_size=7).save()
    assert AutoIngestConfig.objects.count() == 1 and AutoIngestConfig.load().batch_size == 7
