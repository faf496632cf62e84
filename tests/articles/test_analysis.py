"""Bulk analysis: the local analyzer's fields, every item outcome, the queue's bounds, cancel, the LLM."""

import json
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from articles.analysis import run_bulk_analysis_task
from articles.analysis_queue import AnalysisQueue
from articles.analyzers import AnalysisError, _text, get_analyzer
from articles.exceptions import AllItemsFailed
from articles.models import Article
from jobs import lifecycle
from jobs.exceptions import JobCancelled
from jobs.models import TaskInfo
from jobs.reporting import ProgressReporter
from tests.factories import Recorder

from .sites import FLOOD_TITLE, SOLAR_TITLE

pytestmark = pytest.mark.django_db


# --- the local analyzer


def test_local_analyzer_fields_on_a_known_page(site):
    analyzer = get_analyzer("local", topic="solar energy", summary_type="standard")
    analysis = analyzer.analyze(site.article("solar"))
    assert analysis.title == SOLAR_TITLE
    assert "twelve gigawatts of new solar panels" in analysis.content
    assert "Copyright" not in analysis.content  # boilerplate is not article text
    assert len(_text.sentences(analysis.summary)) == 4
    assert analysis.summary.startswith("Solar power capacity across the region doubled last year")
    assert analysis.sentiment > 0.05 and analysis.sentiment_label == "positive"
    assert analysis.keywords[0] == "solar" and {"power", "energy", "panel"} <= set(analysis.keywords)
    assert analysis.relevance > 0.8
    assert analysis.model_used == "local"
    assert analysis.source == "127.0.0.1"
    assert analysis.published_at.date().isoformat() == "2026-03-14"


@pytest.mark.parametrize("summary_type, sentences", [("brief", 2), ("standard", 4), ("detailed", 8)])
def test_summary_length_follows_summary_type(site, summary_type, sentences):
    analysis = get_analyzer("local", summary_type=summary_type).analyze(site.article("solar"))
    assert len(_text.sentences(analysis.summary)) == sentences


def test_local_analysis_is_deterministic(site):
    first = get_analyzer("local", topic="solar energy").analyze(site.article("flood"))
    second = get_analyzer("local", topic="solar energy").analyze(site.article("flood"))
    assert first.as_dict() == second.as_dict()


def test_sentiment_and_relevance_tell_articles_apart(site):
    analyzer = get_analyzer("local", topic="solar energy")
    solar, flood, football = (analyzer.analyze(site.article(name)) for name in ("solar", "flood", "football"))
    assert flood.title == FLOOD_TITLE and flood.sentiment_label == "negative"
    assert solar.relevance > 0.8 > 0.2 > flood.relevance and football.relevance < 0.2
    assert get_analyzer("local", topic="").analyze(site.article("solar")).relevance is None


def test_extraction_empty_is_an_analysis_error(site):
    with pytest.raises(AnalysisError, match="extraction empty"):
        get_analyzer("local").analyze(site.article("empty"))


# --- the bulk-analysis job


def test_every_item_outcome_is_recorded_and_the_job_goes_on(site):
    urls = {
        "solar": site.article("solar"),
        "missing": site.article("missing"),
        "flood": site.article("flood"),
        "pdf": site.url("/files/report.pdf"),
        "huge": site.article("huge-stream"),
        "slow": site.article("slow"),
        "empty": site.article("empty"),
        "private": site.url("/redirect/private"),
        "football": site.article("football"),
    }
    recorder = Recorder()
    result = run_bulk_analysis_task(list(urls.values()), topic="solar energy", summary_type="brief",
                                    batch_size=4, item_timeout=1.0, progress_callback=recorder)

    assert result["analyzed"] == 3 and result["failed"] == 6 and result["skipped"] == 0
    reasons = {error["url"]: error["error"] for error in result["errors"]}
    assert reasons[urls["missing"]] == "HTTP 404 NOT FOUND"
    assert reasons[urls["pdf"]].startswith("unsupported content type 'application/pdf'")
    assert reasons[urls["huge"]].startswith("too large")
    assert reasons[urls["slow"]] == "timed out after 1s"
    assert reasons[urls["empty"]].startswith("extraction empty")
    assert "non-public address (169.254.169.254)" in reasons[urls["private"]]

    saved = Article.objects.filter(pk__in=result["articles"])
    assert sorted(saved.values_list("url", flat=True)) == sorted([urls["solar"], urls["flood"], urls["football"]])
    solar = Article.objects.get(url=urls["solar"])
    assert solar.title == SOLAR_TITLE and solar.topic == "solar energy" and solar.model_used == "local"
    assert solar.analyzed_at is not None and solar.relevance > 0.8 and solar.sentiment_label == "positive"
    assert len(_text.sentences(solar.summary)) == 2

    # Progress after each item, naming it; a batch update every 4 items and one for the rest.
    assert [processed for processed, _ in recorder.calls] == list(range(1, 10))
    assert sorted(current for _, current in recorder.calls) == sorted(urls.values())
    assert [(done, total) for done, total, _ in recorder.batches] == [(1, 3), (2, 3), (3, 3)]
    assert recorder.batches[-1][2] == {"analyzed": 3, "failed": 6, "skipped": 0}


def test_results_are_upserted_and_known_urls_skipped_unless_forced(site):
    Article.objects.create(url=site.article("solar"), title="Saved earlier by bulk save", content="old")
    first = run_bulk_analysis_task([site.article("solar")], topic="solar energy")
    assert first["analyzed"] == 1 and Article.objects.count() == 1
    article = Article.objects.get()
    assert article.title == SOLAR_TITLE and first["articles"] == [article.pk]

    again = run_bulk_analysis_task([site.article("solar")], topic="solar energy")
    assert again["skipped"] == 1 and again["analyzed"] == 0 and again["articles"] == [article.pk]
    assert again["skipped_urls"] == [{"url": site.article("solar"), "reason": "already analyzed by local"}]

    forced = run_bulk_analysis_task([site.article("solar")], topic="solar energy", force=True)
    assert forced["analyzed"] == 1 and Article.objects.count() == 1


def test_an_unknown_model_fails_the_job_with_the_reason(site):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="no analyzer serves model 'gpt-x'"):
        run_bulk_analysis_task([site.article("solar")], model_name="gpt-x")


def test_cancel_through_the_task_row_stops_between_items(site, make_task):
    urls = [site.url(f"/many/{n}.html") for n in range(40)]
    task_id = make_task(total_items=len(urls), kind="bulk_analysis", params={"urls": urls})
    assert lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, len(urls), interval=0)

    def progress(processed, current=None):
        if processed == 5:
            lifecycle.cancel_task(task_id)  # what DELETE /task/<id> does from another process
        reporter(processed, current)

    with pytest.raises(JobCancelled) as cancelled:
        run_bulk_analysis_task(urls, max_concurrent=2, max_queue_size=4, progress_callback=progress)
    partial = cancelled.value.partial_result
    assert partial["processed"] == 5 and partial["not_processed"] == 35
    assert partial["analyzed"] == 5 and Article.objects.count() == 5
    assert TaskInfo.objects.get(pk=task_id).processed_items == 5


# --- the queue itself


def test_bounded_queue_never_holds_more_than_its_size():
    started = []
    pulled = 0
    lock = threading.Lock()
    most_waiting = 0

    def items():
        nonlocal pulled, most_waiting
        for n in range(60):
            with lock:
                # Pulled but not yet started = waiting in the queue (plus the one being put).
                most_waiting = max(most_waiting, pulled - len(started))
                pulled += 1
            yield n

    def work(item, deadline):
        with lock:
            started.append(item)
        time.sleep(0.01)
        return item * 2

    work_queue = AnalysisQueue(work, max_concurrent=2, max_queue_size=5, item_timeout=5)
    outcomes = list(work_queue.run(items()))
    assert sorted(o.value for o in outcomes) == [n * 2 for n in range(60)]
    assert work_queue.peak_queue_size == 5  # it filled up: the feeder was held back, not refused
    # Seen from outside: at most the queue's 5, the one being put, and one per worker taken
    # but not yet begun; never the 60 that an unbounded queue would have swallowed at once.
    assert most_waiting <= 5 + 1 + 2


def test_a_slow_consumer_holds_the_workers_back_instead_of_piling_up_results():
    finished = 0
    lock = threading.Lock()

    def work(item, deadline):
        nonlocal finished
        with lock:
            finished += 1
        return item

    work_queue = AnalysisQueue(work, max_concurrent=2, max_queue_size=3, item_timeout=5)
    most_ahead = 0
    for consumed, _outcome in enumerate(work_queue.run(range(40)), start=1):
        time.sleep(0.005)  # the caller saving to the database
        with lock:
            most_ahead = max(most_ahead, finished - consumed)
    assert consumed == 40
    assert most_ahead <= 3 + 2  # the results queue, plus one finished item per worker waiting to hand over


def test_max_concurrent_bounds_the_items_in_flight():
    running, most_running, lock = 0, 0, threading.Lock()

    def work(item, deadline):
        nonlocal running, most_running
        with lock:
            running += 1
            most_running = max(most_running, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    list(AnalysisQueue(work, max_concurrent=3, max_queue_size=10, item_timeout=5).run(range(30)))
    assert most_running == 3


def test_per_item_timeout_fails_that_item_only():
    def work(item, deadline):
        if item == "stuck":
            time.sleep(3)
        return item

    began = time.monotonic()
    outcomes = {o.item: o for o in AnalysisQueue(work, max_concurrent=1, max_queue_size=3,
                                                 item_timeout=0.3).run(["a", "stuck", "b"])}
    assert time.monotonic() - began < 2
    assert outcomes["stuck"].error == "timed out after 0.3s"
    assert outcomes["a"].value == "a" and outcomes["b"].value == "b"


def test_stop_is_honoured_between_items():
    done = []

    def work(item, deadline):
        time.sleep(0.01)
        done.append(item)
        return item

    work_queue = AnalysisQueue(work, max_concurrent=2, max_queue_size=3, item_timeout=5)
    seen = []
    for outcome in work_queue.run(range(100)):
        seen.append(outcome.item)
        if len(seen) == 4:
            work_queue.stop()
    time.sleep(0.1)
    assert len(done) <= 4 + 2  # what was already running finishes; nothing new starts
    assert len(seen) <= len(done)


# --- the LLM analyzer against a local OpenAI-compatible server


@pytest.fixture
def fake_llm(settings):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    received = []

    def chat(request):
        body = json.loads(request.data)
        received.append({"body": body, "authorization": request.headers.get("Authorization")})
        prompt = body["messages"][-1]["content"]
        if "Floods destroy homes" in prompt:
            return Response(json.dumps({"error": {"message": "model overloaded"}}), status=503,
                            content_type="application/json")
        if "Late goal" in prompt:
            content = "Sorry, I cannot help with that."
        else:
            content = "```json\n" + json.dumps({"summary": "Solar capacity doubled.", "sentiment": 0.8,
                                                "keywords": ["solar", "panels"], "relevance": 0.9}) + "\n```"
        return Response(json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": content}}]}),
                        content_type="application/json")

    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(chat)
    settings.STATUSMSG = {**settings.STATUSMSG, "LLM_BASE_URL": f"http://127.0.0.1:{server.port}/v1",
                          "LLM_MODELS": "fake-gpt,other", "LLM_API_KEY": "sk-test-key", "LLM_TIMEOUT": 5.0}
    yield received
    server.clear()
    server.stop()


def test_llm_analyzer_fills_the_same_fields_and_turns_its_errors_into_item_errors(site, fake_llm):
    urls = [site.article("solar"), site.article("flood"), site.article("football"), site.article("missing")]
    result = run_bulk_analysis_task(urls, topic="solar energy", summary_type="brief", model_name="fake-gpt")

    assert result["analyzed"] == 1 and result["failed"] == 3
    reasons = {error["url"]: error["error"] for error in result["errors"]}
    assert reasons[site.article("flood")] == "LLM error: HTTP 503 model overloaded"
    assert reasons[site.article("football")] == "LLM error: the answer is not the JSON object asked for"
    assert reasons[site.article("missing")] == "HTTP 404 NOT FOUND"  # never reached the model

    article = Article.objects.get(url=site.article("solar"))
    assert (article.title, article.summary, article.sentiment, article.sentiment_label) == (
        SOLAR_TITLE, "Solar capacity doubled.", 0.8, "positive")
    assert article.keywords == ["solar", "panels"] and article.relevance == 0.9 and article.model_used == "fake-gpt"

    call = next(c for c in fake_llm if "Solar power capacity" in c["body"]["messages"][-1]["content"])
    assert call["authorization"] == "Bearer sk-test-key"
    assert call["body"]["model"] == "fake-gpt"
    assert "Topic: solar energy" in call["body"]["messages"][-1]["content"]


def test_an_unreachable_llm_is_an_item_error(site, settings):
    from tests.processes import free_port

    settings.STATUSMSG = {**settings.STATUSMSG, "LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
                          "LLM_MODELS": "fake-gpt"}
    # Its only URL failed, so the job fails as a whole, keeping the item's reason.
    with pytest.raises(AllItemsFailed) as failed:
        run_bulk_analysis_task([site.article("solar")], model_name="fake-gpt")
    result = failed.value.partial_result
    assert result["failed"] == 1 and result["errors"][0]["error"].startswith("LLM unreachable")


@pytest.mark.django_db(transaction=True)
def test_batch_updates_reach_the_row_through_the_worker_entry(site, make_task):
    from jobs.worker import run_task

    urls = [site.url(f"/many/{n}.html") for n in range(6)]
    task_id = make_task(total_items=len(urls), kind="bulk_analysis", params={"urls": urls, "batch_size": 2})
    assert run_task(str(task_id)) == "completed"
    batches = TaskInfo.objects.get(pk=task_id).metadata["batches"]
    assert [(b["batch_completed"], b["total_batches"]) for b in batches] == [(1, 3), (2, 3), (3, 3)]
