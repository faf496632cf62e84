"""A finished workload's results as people read them: rows, links, reasons in words."""

import pytest

from articles.analysis import run_bulk_analysis_task, start_bulk_analysis
from articles.bulk_save import start_bulk_save
from articles.exceptions import AllItemsFailed
from articles.results import reason_in_words, task_results
from jobs import lifecycle
from jobs.models import Status, TaskInfo

from .sites import SOLAR_TITLE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.articles.urls")]


@pytest.mark.parametrize(("raw", "words"), [
    ("refused: 127.0.0.1 resolves to a non-public address (127.0.0.1)",
     "refused: 127.0.0.1 is a private address; allow it with STATUSMSG_FETCH_ALLOW_HOSTS"),
    ("refused: localhost resolves to a non-public address (::1)",
     "refused: localhost (::1) is a private address; allow it with STATUSMSG_FETCH_ALLOW_HOSTS"),
    ("HTTP 404 Not Found", "the site answered 404 Not Found: the page is missing or not public"),
    ("HTTP 503 Service Unavailable", "the site answered 503 Service Unavailable: its server failed, try again later"),
    ("timed out after 1s", "timed out: no complete answer within 1 s; the site may be slow, try again later"),
    ("cannot resolve host 'nowhere.invalid': [Errno -2] Name or service not known",
     "not found: no address for nowhere.invalid; check the spelling, or the machine has no internet"),
    ("unsupported content type 'application/pdf' (expected text/html, application/xhtml+xml)",
     "not an article: the URL gives application/pdf, not a web page"),
    ("LLM error: the answer is not a chat completion", "LLM error: the answer is not a chat completion"),
    ("", "failed for an unknown reason"),
])
def test_reasons_are_told_in_words_a_user_can_act_on(raw, words):
    assert reason_in_words(raw) == words


def finish_with(task_id, status, result, error=""):
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, status, result=result, error=error)
    return TaskInfo.objects.get(pk=task_id)


def test_a_partly_failed_analysis_has_failure_rows_first_then_linked_articles(site, user, client):
    urls = [site.article("solar"), site.article("missing")]
    result = run_bulk_analysis_task(urls, topic="solar energy")
    task = finish_with(start_bulk_analysis(urls, owner=user), Status.COMPLETED, result)
    results = task_results(task)
    assert [(row.url, row.outcome) for row in results["rows"]] == [(urls[1], "failed"), (urls[0], "analyzed")]
    assert results["rows"][0].reason == "the site answered 404 NOT FOUND: the page is missing or not public"
    assert results["retry_count"] == 1 and results["failed"] == 1
    assert results["counts"] == [("analyzed", 1), ("failed", 1)]

    client.force_login(user)
    html = client.get(f"/analysis/{task.pk}/results").content.decode()
    article = results["rows"][1].article
    assert f'<a href="/articles/{article.pk}/">{SOLAR_TITLE}</a>' in html
    assert 'class="sentiment sentiment-positive"' in html and "the site answered 404" in html
    assert f'action="/analysis/{task.pk}/retry-failed"' in html and "Retry 1 failed URL<" in html


def test_an_analysis_that_failed_whole_keeps_its_rows(site, user, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": ""}
    with pytest.raises(AllItemsFailed) as failed:
        run_bulk_analysis_task([site.article("solar")])
    task = finish_with(start_bulk_analysis([site.article("solar")], owner=user), Status.FAILED,
                       failed.value.partial_result, error="all 1 URL failed")
    [row] = task_results(task)["rows"]
    assert row.outcome == "failed"
    assert row.reason == "refused: 127.0.0.1 is a private address; allow it with STATUSMSG_FETCH_ALLOW_HOSTS"


def test_a_bulk_save_shows_its_counts_and_error_rows(user):
    result = {"saved": 2, "duplicates": 1, "errors": [{"index": 3, "url": "nope", "error": "url: Enter a valid URL."}]}
    task = finish_with(start_bulk_save([{}] * 4, owner=user), Status.COMPLETED, result)
    results = task_results(task)
    assert results["counts"] == [("saved", 2), ("duplicate", 1), ("error", 1)]
    assert [(row.url, row.outcome, row.reason) for row in results["rows"]] == [
        ("nope", "error", "url: Enter a valid URL.")]
    assert not results["retry_count"]


def test_an_unfinished_or_other_task_has_no_results_block(user, make_task, client):
    assert task_results(TaskInfo.objects.get(pk=start_bulk_analysis(["https://a.example/"], owner=user))) is None
    assert task_results(TaskInfo.objects.get(pk=make_task(kind="counting"))) is None
    client.force_login(user)
    assert client.get(f"/analysis/{make_task(kind='counting')}/results").content == b""


def test_someone_else_s_results_are_a_404(user, other_user, client):
    task_id = start_bulk_analysis(["https://a.example/"], owner=user)
    client.force_login(other_user)
    assert client.get(f"/analysis/{task_id}/results").status_code == 404


def test_an_analysis_that_failed_whole_without_a_result_offers_to_retry_all_its_urls(user, client):
    urls = ["https://a.example/1", "https://a.example/2"]
    task = finish_with(start_bulk_analysis(urls, owner=user), Status.FAILED, None, error="ImproperlyConfigured: no")
    assert task_results(task)["retry_count"] == 2
    client.force_login(user)
    assert "Retry 2 failed URLs<" in client.get(f"/analysis/{task.pk}/results").content.decode()
