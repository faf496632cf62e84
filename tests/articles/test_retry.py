"""Retry what failed: POST /api/background-tasks/task/{id}/retry-failed and the page's button."""

import pytest

from articles.analysis import start_bulk_analysis
from jobs import lifecycle
from jobs.models import Status, TaskInfo

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.articles.urls")]

URLS = [f"https://news.example.com/{n}" for n in range(4)]
OPTIONS = {"topic": "solar", "summary_type": "brief", "model_name": "local", "batch_size": 2, "force": True}


def retry_path(task_id) -> str:
    return f"/api/background-tasks/task/{task_id}/retry-failed"


def finished_analysis(owner, failed_urls=(URLS[1], URLS[3]), status=Status.COMPLETED, result="default"):
    task_id = start_bulk_analysis(URLS, owner=owner, **OPTIONS)
    lifecycle.start_task(task_id)
    if result == "default":
        result = {"analyzed": 4 - len(failed_urls), "failed": len(failed_urls), "skipped": 0, "articles": [],
                  "errors": [{"url": url, "error": "HTTP 404 Not Found"} for url in failed_urls]}
    lifecycle.finish_task(task_id, status, result=result, error="" if status == Status.COMPLETED else "boom")
    return task_id


@pytest.mark.parametrize("suffix", ["", "/"])
def test_retry_starts_an_analysis_of_exactly_the_failed_urls_with_the_same_options(api, user, suffix):
    task_id = finished_analysis(user)
    response = api.post(retry_path(task_id) + suffix)
    assert response.status_code == 202
    retry = TaskInfo.objects.get(pk=response.json()["task_id"])
    assert (retry.kind, retry.status, retry.owner, retry.total_items) == ("bulk_analysis", Status.PENDING, user, 2)
    assert retry.params == {"urls": [URLS[1], URLS[3]], **OPTIONS}
    assert retry.metadata["retry_of"] == str(task_id) and retry.name == "Retry of 2 failed URLs"


def test_retry_of_an_analysis_that_failed_whole_without_a_result_retries_all_its_urls(api, user):
    task_id = finished_analysis(user, status=Status.FAILED, result=None)
    response = api.post(retry_path(task_id))
    assert TaskInfo.objects.get(pk=response.json()["task_id"]).params["urls"] == URLS


@pytest.mark.parametrize(("failed_urls", "status", "detail"), [
    ((), Status.COMPLETED, "Nothing failed, so there is nothing to retry."),
])
def test_nothing_failed_is_a_409(api, user, failed_urls, status, detail):
    task_id = finished_analysis(user, failed_urls=failed_urls, status=status)
    response = api.post(retry_path(task_id))
    assert response.status_code == 409 and response.json() == {"detail": detail}
    assert TaskInfo.objects.count() == 1


def test_an_unfinished_analysis_or_another_kind_is_a_409(api, user, make_task):
    running = start_bulk_analysis(URLS, owner=user)
    assert api.post(retry_path(running)).json() == {
        "detail": "The analysis is still pending; retry it once it has finished."}
    save = make_task(kind="bulk_save")
    response = api.post(retry_path(save))
    assert response.status_code == 409 and response.json() == {"detail": "Only a bulk analysis can be retried."}


def test_someone_else_s_or_an_unknown_task_is_a_404(api, other_api, user):
    task_id = finished_analysis(user)
    assert other_api.post(retry_path(task_id)).status_code == 404
    assert api.post(retry_path("not-a-uuid")).status_code == 404
    assert api.post(retry_path("6b3f2d2e-8a8e-4a43-9a59-4f1b8f1e9c11")).status_code == 404
    assert TaskInfo.objects.count() == 1


def test_staff_may_retry_anyone_s_and_own_the_retry(staff_api, staff_user, user):
    task_id = finished_analysis(user)
    response = staff_api.post(retry_path(task_id))
    assert response.status_code == 202
    assert TaskInfo.objects.get(pk=response.json()["task_id"]).owner == staff_user


def test_get_is_not_allowed(api, user):
    assert api.get(retry_path(finished_analysis(user))).status_code == 405


def test_the_page_button_retries_and_goes_to_the_new_task(client, user):
    client.force_login(user)
    task_id = finished_analysis(user)
    response = client.post(f"/analysis/{task_id}/retry-failed")
    retry = TaskInfo.objects.exclude(pk=task_id).get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{retry.pk}/"


def test_the_page_button_with_nothing_to_retry_goes_back_with_the_reason(client, user):
    client.force_login(user)
    task_id = finished_analysis(user, failed_urls=())
    response = client.post(f"/analysis/{task_id}/retry-failed", follow=False)
    assert response["Location"] == f"/tasks/{task_id}/" and TaskInfo.objects.count() == 1
