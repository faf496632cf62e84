import pytest

from articles.models import Article
from jobs.models import Status, TaskInfo
from jobs.worker import run_task
from tests.factories import article


@pytest.mark.django_db(transaction=True)
def test_bulk_save_runs_to_completed_through_the_worker_entry(make_task):
    task_id = make_task(total_items=3, params={"articles": [article(1), article(2), article(1)]})
    assert run_task(str(task_id)) == Status.COMPLETED
    task = TaskInfo.objects.get(pk=task_id)
    assert task.result == {"saved": 2, "duplicates": 1, "errors": []}
    assert task.progress == 100.0 and task.processed_items == 3
    assert Article.objects.count() == 2
