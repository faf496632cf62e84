"""A big bulk analysis as a task group: its merged result, and a retry of the failed URLs of all its chunks."""

import pytest

from articles.analysis import merge_chunks, start_bulk_analysis
from articles.models import Article
from jobs import lifecycle
from jobs.groups import Chunk
from jobs.models import Status, TaskInfo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.articles.urls")]

URLS = [f"https://news.example.com/{n}" for n in range(60)]


def test_the_merged_result_adds_the_chunks_and_counts_what_a_failed_chunk_did_not_reach():
    article = Article.objects.create(url="https://a/1", title="One")
    analyzed = Chunk(["https://a/1", "https://a/2"], Status.COMPLETED, {
        "analyzed": 1, "failed": 1, "skipped": 0, "articles": [article.pk],
        "errors": [{"url": "https://a/2", "error": "HTTP 404"}], "skipped_urls": []}, "")
    lost = Chunk(["https://b/1", "https://b/2"], Status.FAILED, None, "Worker lost: no heartbeat")
    stopped = Chunk(["https://a/1", "https://c/2"], Status.FAILED, {"analyzed": 1, "articles": [article.pk]},
                    "Worker stopped by signal")
    cancelled = Chunk(["https://d/1", "https://d/2", "https://d/3"], Status.CANCELLED,
                      {"skipped": 1, "skipped_urls": [{"url": "https://d/1", "reason": "already analyzed"}]}, "")
    result = merge_chunks([analyzed, lost, stopped, cancelled])
    assert (result["analyzed"], result["failed"], result["skipped"], result["not_processed"]) == (2, 4, 1, 2)
    assert [(entry["url"], entry["error"]) for entry in result["errors"]] == [
        ("https://a/2", "HTTP 404"), ("https://b/1", "Worker lost: no heartbeat"),
        ("https://b/2", "Worker lost: no heartbeat"), ("https://c/2", "Worker stopped by signal")]
    assert result["articles"] == [article.pk, article.pk]


def test_retry_failed_on_a_group_retries_the_failed_urls_of_all_its_chunks(api, user, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "CHUNK_SIZE": 50}
    parent_id = start_bulk_analysis(URLS, owner=user, topic="solar", model_name="local")
    first, second = TaskInfo.objects.filter(parent_id=parent_id).order_by("chunk_index")
    for chunk, failed in ((first, URLS[3:5]), (second, URLS[55:56])):
        lifecycle.start_task(chunk.pk)
        lifecycle.end_task(chunk.pk, Status.COMPLETED, processed_items=chunk.total_items, result={
            "analyzed": chunk.total_items - len(failed), "failed": len(failed), "skipped": 0, "articles": [],
            "errors": [{"url": url, "error": "HTTP 404"} for url in failed], "skipped_urls": []})
    parent = TaskInfo.objects.get(pk=parent_id)
    assert (parent.status, parent.result["analyzed"], parent.result["failed"]) == (Status.COMPLETED, 57, 3)
    response = api.post(f"/api/background-tasks/task/{parent_id}/retry-failed")
    assert response.status_code == 202
    retry = TaskInfo.objects.get(pk=response.json()["task_id"])
    assert retry.params["urls"] == [*URLS[3:5], URLS[55]] and retry.params["topic"] == "solar"
    assert retry.children_total == 0  # three URLs: one task
