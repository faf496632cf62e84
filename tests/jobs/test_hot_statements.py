"""A job's hot statements (create, start, progress, end, its snapshot): compiled once, with its own values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.serializers import TaskInfoSerializer, task_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def row(task_id) -> TaskInfo:
    return TaskInfo.objects.get(pk=task_id)


def verbs(queries) -> list[str]:
    return [query["sql"].split()[0].upper() for query in queries.captured_queries
            if query["sql"].split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE")]


def test_creating_a_task_with_the_orm_broker_inserts_the_queue_item_and_the_row_and_updates_nothing(user):
    with CaptureQueriesContext(connection) as queries:
        task_id = lifecycle.create_task("t", owner=user)
    # The two INSERTs, then the pending snapshot's queue position after commit.
    assert verbs(queries) == ["INSERT", "INSERT", "SELECT"]
    assert row(task_id).queue_task_id


def test_a_running_job_writes_one_update_per_start_progress_write_and_end(make_task):
    task_id = make_task(owner=None)
    with CaptureQueriesContext(connection) as queries:
        assert lifecycle.start_task(task_id)
        assert lifecycle.touch_running_task(task_id, attempt=1, processed_items=1, current_item="a")
        assert lifecycle.touch_running_task(task_id, attempt=1)
        assert lifecycle.finish_task(task_id, Status.COMPLETED, result={"n": 1}, processed_items=1, attempt=1)
    assert verbs(queries) == ["UPDATE"] * 4


def test_one_compiled_statement_ends_each_task_with_its_own_values_and_guards(make_task, user):
    """Two endings of one shape: each writes its own result, error and count; the cancel CASE
    and the status guard are decided per row."""
    plain, cancelled, ended = make_task(), make_task(), make_task()
    for task_id in (plain, cancelled, ended):
        lifecycle.start_task(task_id)
    lifecycle.cancel_task(cancelled, by=user)
    lifecycle.finish_task(ended, Status.FAILED, error="first")
    for task_id, number in ((plain, 1), (cancelled, 2), (ended, 3)):
        lifecycle.finish_task(task_id, Status.COMPLETED, result={"n": number}, error=f"e{number}",
                              processed_items=number)
    assert [(task.status, task.result, task.error, task.processed_items, task.progress)
            for task in map(row, (plain, cancelled, ended))] == [
        (Status.COMPLETED, {"n": 1}, "e1", 1, 100.0),
        (Status.CANCELLED, {"n": 2}, lifecycle.CANCELLED_ON_REQUEST, 2, 0.0),
        (Status.FAILED, None, "first", 0, 0.0),
    ]


def test_one_compiled_progress_write_guards_each_call_on_its_own_attempt(make_task):
    task_id = make_task()
    lifecycle.start_task(task_id)
    assert lifecycle.touch_running_task(task_id, attempt=2, processed_items=5) is None
    written = lifecycle.touch_running_task(task_id, attempt=1, processed_items=6)
    assert written.processed_items == 6 and row(task_id).processed_items == 6


@pytest.mark.parametrize("owned", [True, False])
def test_the_kept_serializer_gives_the_rest_snapshot_with_its_owner_and_queue_position(make_task, owned, user):
    first = make_task(owner=user if owned else None)
    second = make_task(owner=user if owned else None)
    task = TaskInfo.objects.select_related("owner").get(pk=second)
    snapshot = task_snapshot(task)
    assert snapshot == dict(TaskInfoSerializer(task).data)
    assert (snapshot["owner"], snapshot["queue_position"]) == ("alice" if owned else None, 2)
    lifecycle.start_task(first)
    assert task_snapshot(task)["queue_position"] == 1
