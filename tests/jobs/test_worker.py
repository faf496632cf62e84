"""The worker entry point, called directly as django-q2 would call it."""

import logging
import threading
import time

import pytest

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.worker import run_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_job_result_is_stored_on_completion(make_task):
    task_id = make_task(kind="counting", total_items=5, params={"items": 5})
    assert run_task(str(task_id)) == Status.COMPLETED
    task = TaskInfo.objects.get(pk=task_id)
    assert task.result == {"counted": 5} and task.processed_items == 5 and task.progress == 100.0


def test_failing_job_ends_failed_with_a_clear_error_and_the_traceback_logged(make_task, caplog):
    task_id = make_task(kind="counting", total_items=5, params={"items": 5, "fail_at": 3})
    with caplog.at_level(logging.ERROR, logger="jobs.worker"):
        assert run_task(str(task_id)) == Status.FAILED
    task = TaskInfo.objects.get(pk=task_id)
    assert task.error == "ValueError: item 3 is broken"
    assert task.processed_items == 2
    assert "Traceback" in caplog.text and "item 3 is broken" in caplog.text


def test_cancel_from_outside_stops_the_job_and_keeps_its_partial_result(make_task, user):
    task_id = make_task(kind="counting", total_items=1000, params={"items": 1000, "delay": 0.005})
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("status", run_task(str(task_id))))
    worker.start()
    while TaskInfo.objects.get(pk=task_id).processed_items < 20:
        time.sleep(0.01)
    requested_at = time.monotonic()
    lifecycle.cancel_task(task_id, by=user)
    worker.join(10)
    stopped_after = time.monotonic() - requested_at
    task = TaskInfo.objects.get(pk=task_id)
    assert outcome["status"] == Status.CANCELLED == task.status
    assert 20 <= task.result["counted"] < 1000
    assert task.processed_items == task.result["counted"]
    assert stopped_after < 1.0  # PROGRESS_INTERVAL is 0.05 s in tests


def test_job_cancelled_while_queued_never_runs(make_task, user):
    task_id = make_task(kind="counting", total_items=5, params={"items": 5})
    lifecycle.cancel_task(task_id, by=user)
    assert run_task(str(task_id)) == "not-started"
    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.CANCELLED and task.started_at is None and task.result is None


def test_silent_job_keeps_beating_so_it_does_not_look_dead(make_task):
    task_id = make_task(kind="silent", params={"seconds": 1.0})
    beats = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            beat = TaskInfo.objects.values_list("heartbeat_at", flat=True).get(pk=task_id)
            if beat and beat not in beats:
                beats.append(beat)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert run_task(str(task_id)) == Status.COMPLETED
    finally:
        stop.set()
        watcher.join()
    assert len(beats) >= 3  # start + beats every 0.2 s during one silent second


def test_heartbeat_passes_a_cancel_request_to_a_job_that_reports_rarely(make_task, user):
    # 0.4 s per item with a 0.05 s progress interval: the request reaches the job through
    # the heartbeat (every 0.2 s), before its next progress call writes anything.
    task_id = make_task(kind="counting", total_items=50, params={"items": 50, "delay": 0.4})
    worker = threading.Thread(target=run_task, args=(str(task_id),))
    worker.start()
    while TaskInfo.objects.get(pk=task_id).processed_items < 1:
        time.sleep(0.01)
    lifecycle.cancel_task(task_id, by=user)
    worker.join(10)
    assert TaskInfo.objects.get(pk=task_id).status == Status.CANCELLED
