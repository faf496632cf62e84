"""Jobs through a real django-q2 cluster process on PostgreSQL."""

import pytest

from jobs.models import Article, Status, TaskInfo
from tests.processes import wait_for

from .conftest import article

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def status_of(task_id):
    return TaskInfo.objects.values_list("status", flat=True).get(pk=task_id)


def test_bulk_save_runs_to_completed_in_a_real_cluster(qcluster, make_task):
    articles = [article(n) for n in range(50)] + [article(3)]
    task_id = make_task(total_items=len(articles), params={"articles": articles})
    wait_for(lambda: status_of(task_id) == Status.COMPLETED, timeout=60, message="completed")
    task = TaskInfo.objects.get(pk=task_id)
    assert task.result == {"saved": 50, "duplicates": 1, "errors": []}
    assert task.processed_items == 51 and task.progress == 100.0
    assert task.queue_task_id
    assert Article.objects.count() == 50
