"""The timing fields of a task snapshot: elapsed, rate, ETA and queue position, and what they cost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import Status, TaskInfo
from jobs.serializers import TaskInfoSerializer, task_snapshot

pytestmark = pytest.mark.django_db


def _task(**fields) -> TaskInfo:
    return TaskInfo.objects.create(name="t", kind="bulk_save", **fields)


def test_running_task_30s_in_with_60_of_240_items_has_rate_2_and_eta_90():
    task = _task(status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=30),
                 total_items=240, processed_items=60)
    snapshot = task_snapshot(task)
    assert snapshot["elapsed_seconds"] == pytest.approx(30, abs=0.5)
    assert snapshot["items_per_second"] == pytest.approx(2, rel=0.02)
    assert snapshot["eta_seconds"] == pytest.approx(90, rel=0.02)
    assert snapshot["queue_position"] is None


def test_running_task_before_its_first_item_has_no_rate_and_no_eta():
    task = _task(status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=5), total_items=10)
    snapshot = task_snapshot(task)
    assert snapshot["elapsed_seconds"] == pytest.approx(5, abs=0.5)
    assert (snapshot["items_per_second"], snapshot["eta_seconds"]) == (None, None)


def test_running_task_of_unknown_size_has_a_rate_but_no_eta():
    task = _task(status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=10), processed_items=50)
    snapshot = task_snapshot(task)
    assert snapshot["items_per_second"] == pytest.approx(5, rel=0.02)
    assert snapshot["eta_seconds"] is None


def test_finished_task_keeps_its_run_time_and_average_rate_without_eta():
    started = timezone.now() - timedelta(minutes=10)
    task = _task(status=Status.COMPLETED, started_at=started, completed_at=started + timedelta(seconds=40),
                 total_items=80, processed_items=80, progress=100)
    snapshot = task_snapshot(task)
    assert snapshot["elapsed_seconds"] == 40
    assert snapshot["items_per_second"] == 2
    assert snapshot["eta_seconds"] is None


def test_pending_task_has_no_timing_but_a_queue_position():
    snapshot = task_snapshot(_task())
    assert (snapshot["elapsed_seconds"], snapshot["items_per_second"], snapshot["eta_seconds"]) == (None, None, None)
    assert snapshot["queue_position"] == 1


def test_three_pending_tasks_stand_in_line_oldest_first_behind_no_running_one():
    now = timezone.now()
    _task(status=Status.RUNNING, started_at=now)
    tasks = [_task() for _ in range(3)]
    for age, task in zip((30, 20, 10), tasks, strict=True):
        TaskInfo.objects.filter(pk=task.pk).update(created_at=now - timedelta(seconds=age))
    positions = [task_snapshot(TaskInfo.objects.get(pk=task.pk))["queue_position"] for task in tasks]
    assert positions == [1, 2, 3]


def test_the_first_in_line_moves_up_when_the_one_ahead_starts():
    first, second = _task(), _task()
    TaskInfo.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=5))
    assert task_snapshot(second)["queue_position"] == 2
    TaskInfo.objects.filter(pk=first.pk).update(status=Status.RUNNING)
    assert task_snapshot(second)["queue_position"] == 1


def test_snapshot_of_a_running_task_costs_no_query():
    task = TaskInfo.objects.select_related("owner").get(
        pk=_task(status=Status.RUNNING, started_at=timezone.now(), total_items=5).pk)
    with CaptureQueriesContext(connection) as queries:
        task_snapshot(task)
    assert len(queries) == 0


def test_snapshot_of_a_pending_task_costs_one_count():
    task = TaskInfo.objects.select_related("owner").get(pk=_task().pk)
    with CaptureQueriesContext(connection) as queries:
        task_snapshot(task)
    assert len(queries) == 1 and "COUNT" in queries[0]["sql"].upper()


def test_rest_answer_carries_the_timing_fields(api, user):
    task = _task(owner=user, status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=30),
                 total_items=240, processed_items=60)
    body = api.get(f"/api/background-tasks/task/{task.pk}").json()
    assert body["items_per_second"] == pytest.approx(2, rel=0.02)
    assert body["eta_seconds"] == pytest.approx(90, rel=0.02)
    assert body["queue_position"] is None
    listed = api.get("/api/background-tasks/tasks").json()["tasks"][0]
    assert {"elapsed_seconds", "items_per_second", "eta_seconds", "queue_position"} <= listed.keys()


def test_a_list_of_pending_tasks_gets_their_positions_from_one_query():
    now = timezone.now()
    tasks = [_task() for _ in range(5)]
    for age, task in zip((50, 40, 30, 20, 10), tasks, strict=True):
        TaskInfo.objects.filter(pk=task.pk).update(created_at=now - timedelta(seconds=age))
    TaskInfo.objects.filter(pk=tasks[1].pk).update(status=Status.RUNNING, started_at=now)
    rows = list(TaskInfo.objects.select_related("owner").order_by("-created_at"))
    with CaptureQueriesContext(connection) as queries:
        data = TaskInfoSerializer(rows, many=True).data
    assert len(queries) == 1
    assert [row["queue_position"] for row in data] == [4, 3, 2, None, 1]


def test_rest_list_of_pending_tasks_numbers_them_oldest_first(api, user):
    now = timezone.now()
    tasks = [_task(owner=user) for _ in range(3)]
    for age, task in zip((30, 20, 10), tasks, strict=True):
        TaskInfo.objects.filter(pk=task.pk).update(created_at=now - timedelta(seconds=age))
    listed = api.get("/api/background-tasks/tasks").json()["tasks"]
    assert [row["queue_position"] for row in listed] == [3, 2, 1]
