"""Jobs through a real django-q2 cluster process on PostgreSQL."""

import signal
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Task as QueueTask

from articles.models import Article
from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.reaper import reap_stale_tasks
from tests.factories import article
from tests.processes import Qcluster, wait_for

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


def test_cancel_of_a_running_job_ends_it_cancelled_within_one_interval(qcluster, make_task, user):
    task_id = make_task(kind="counting", total_items=2000, params={"items": 2000, "delay": 0.01})
    wait_for(lambda: TaskInfo.objects.get(pk=task_id).processed_items >= 10, message="progress")
    lifecycle.cancel_task(task_id, by=user)
    requested = time.monotonic()
    wait_for(lambda: status_of(task_id) == Status.CANCELLED, timeout=10, interval=0.01, message="cancelled")
    stopped_after = time.monotonic() - requested
    task = TaskInfo.objects.get(pk=task_id)
    assert task.result["counted"] == task.processed_items < 2000
    # one progress interval (0.05 s) plus the time for the row to be written and read back
    assert stopped_after < 0.05 + 0.5


def test_cancel_of_a_queued_job_means_it_never_starts(make_task, user):
    task_id = make_task(kind="counting", total_items=5, params={"items": 5})
    lifecycle.cancel_task(task_id, by=user)
    cluster = Qcluster().start()
    try:
        wait_for(lambda: QueueTask.objects.filter(name__endswith=str(task_id)).exists(), message="queue drained")
    finally:
        cluster.stop()
    assert QueueTask.objects.get(name__endswith=str(task_id)).result == "not-started"
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.started_at, task.processed_items) == (Status.CANCELLED, None, 0)


def test_a_worker_killed_mid_job_is_reaped_as_failed(make_task):
    cluster = Qcluster().start()
    try:
        task_id = make_task(kind="counting", total_items=5000, params={"items": 5000, "delay": 0.01})
        wait_for(lambda: TaskInfo.objects.get(pk=task_id).processed_items >= 5, message="progress")
        cluster.kill(signal.SIGKILL)
    finally:
        cluster.stop()
    assert status_of(task_id) == Status.RUNNING  # nobody told the row: this is why the reaper exists
    time.sleep(1.2)
    output = StringIO()
    call_command("reap_tasks", "--stale-after", "1", stdout=output)
    assert "Reaped 1" in output.getvalue()
    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.FAILED and task.error.startswith("Worker lost")


def test_reaper_leaves_a_live_job_alone(qcluster, make_task):
    task_id = make_task(kind="silent", params={"seconds": 3})
    wait_for(lambda: status_of(task_id) == Status.RUNNING, message="running")
    time.sleep(1.5)  # no progress at all, but heartbeats every 0.2 s
    assert reap_stale_tasks(stale_after=1) == 0
    wait_for(lambda: status_of(task_id) == Status.COMPLETED, message="completed")
