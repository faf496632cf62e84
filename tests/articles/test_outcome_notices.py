"""How the article workloads' endings are told: titles and texts in sentences, with the right plurals."""

import pytest

from articles.analysis import run_bulk_analysis_task, start_bulk_analysis
from articles.bulk_save import start_bulk_save
from articles.exceptions import AllItemsFailed
from jobs import lifecycle
from jobs.models import Status
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def finish(task_id, status, **fields):
    lifecycle.start_task(task_id)
    assert lifecycle.finish_task(task_id, status, **fields)
    [notification] = Notification.objects.all()
    return notification


def analysis_result(analyzed: int, failed: int, skipped: int = 0) -> dict:
    return {
        "analyzed": analyzed, "failed": failed, "skipped": skipped, "articles": [], "skipped_urls": [],
        "errors": [{"url": f"http://127.0.0.1:9/{n}", "error": "refused: 127.0.0.1 resolves to a non-public "
                    "address (127.0.0.1)"} for n in range(failed)],
    }


def urls(count: int) -> list[str]:
    return [f"https://news.example.com/{n}" for n in range(count)]


def test_a_partly_failed_analysis_says_so_in_its_title_and_gives_the_first_reason_in_words(user):
    task_id = start_bulk_analysis(urls(40), owner=user)
    notification = finish(task_id, Status.COMPLETED, result=analysis_result(37, 3), processed_items=40)
    assert notification.type == "task_complete"
    assert notification.title == "Bulk analysis of 40 URLs completed with 3 of 40 failed"
    assert notification.message == (
        "37 analyzed, 3 failed. First failure: http://127.0.0.1:9/0: refused: 127.0.0.1 is a private address; "
        "allow it with STATUSMSG_FETCH_ALLOW_HOSTS.")


def test_an_analysis_of_one_url_is_named_in_the_singular(user):
    task_id = start_bulk_analysis(urls(1), owner=user)
    notification = finish(task_id, Status.COMPLETED, result=analysis_result(1, 0), processed_items=1)
    assert (notification.title, notification.message) == ("Bulk analysis of 1 URL completed", "1 analyzed.")


def test_an_analysis_whose_urls_all_failed_is_told_as_failed(user):
    task_id = start_bulk_analysis(urls(2), owner=user)
    notification = finish(task_id, Status.FAILED, error="all 2 URLs failed", result=analysis_result(0, 2))
    assert notification.type == "task_failed"
    assert notification.title == "Bulk analysis of 2 URLs failed"
    assert notification.message.startswith("All 2 URLs failed. First failure: http://127.0.0.1:9/0: refused:")


def test_an_analysis_whose_every_url_failed_ends_failed_in_the_job_s_own_words(user):
    from jobs.models import TaskInfo
    from jobs.worker import run_task
    from notifications.models import Notification

    task_id = start_bulk_analysis(urls(2), owner=user)
    assert run_task(str(task_id)) == Status.FAILED
    task = TaskInfo.objects.get(pk=task_id)
    assert task.error == "all 2 URLs failed"  # no exception class name in front
    assert task.result["failed"] == 2
    [notification] = Notification.objects.filter(user=user)
    assert notification.message.startswith("All 2 URLs failed.")


def test_a_cancelled_analysis_tells_what_it_did_and_what_it_left(user):
    task_id = start_bulk_analysis(urls(10), owner=user)
    result = {**analysis_result(3, 1), "processed": 4, "not_processed": 6}
    notification = finish(task_id, Status.CANCELLED, error="Cancelled on request", result=result)
    assert notification.title == "Bulk analysis of 10 URLs was cancelled"
    assert notification.message.startswith("Cancelled on request. 3 analyzed, 1 failed. 6 URLs not processed. ")


def test_a_bulk_save_with_refusals_says_so(user):
    task_id = start_bulk_save([{"url": "https://a.example/1"}], owner=user)
    result = {"saved": 0, "duplicates": 0, "errors": [{"index": 0, "url": "x", "error": "url: Enter a valid URL."}]}
    notification = finish(task_id, Status.COMPLETED, result=result)
    assert notification.title == "Bulk save of 1 article completed with 1 of 1 refused"
    assert notification.message == "0 articles saved, 1 refused. First refusal: x: url: Enter a valid URL."


def test_a_keyword_check_counts_in_words(user):
    task_id = lifecycle.create_task(name="Keyword check of group 1", kind="keyword_check", owner=user)
    notification = finish(task_id, Status.COMPLETED, result={"groups": 1, "checked": 1, "alerts_created": 2})
    assert notification.message == "1 article checked, 2 new alerts."


def test_auto_ingest_of_one_new_article_is_in_the_singular(user):
    task_id = lifecycle.create_task(name="Auto-collect articles from feeds", kind="auto_ingest", owner=user)
    notification = finish(task_id, Status.COMPLETED, result={"processed": 1, "approved": 1})
    assert notification.message == "Processed 1 new article: 1 approved, 0 rejected, 0 failed."


def test_all_urls_failing_raises_with_the_result_kept(site):
    with pytest.raises(AllItemsFailed) as failed:
        run_bulk_analysis_task([site.article("missing"), site.url("/files/report.pdf")])
    assert str(failed.value) == "all 2 URLs failed"
    assert failed.value.partial_result["failed"] == 2 and len(failed.value.partial_result["errors"]) == 2


def test_some_urls_failing_completes_with_failed_counted(site):
    result = run_bulk_analysis_task([site.article("solar"), site.article("missing")])
    assert (result["analyzed"], result["failed"]) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_all_urls_failing_ends_the_task_failed_through_the_worker(site, user):
    from jobs.models import TaskInfo
    from jobs.worker import run_task

    task_id = start_bulk_analysis([site.article("missing")], owner=user)
    assert run_task(str(task_id)) == "failed"
    task = TaskInfo.objects.get(pk=task_id)
    assert "all 1 URL failed" in task.error
