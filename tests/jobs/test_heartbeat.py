"""The worker process's one heartbeat thread: it beats every running job, and tells each its own news."""

import threading
import time

import pytest
from django.db import connection

from jobs import lifecycle
from jobs.heartbeat import Heartbeat
from jobs.models import Status, TaskInfo
from jobs.worker import run_task

pytestmark = pytest.mark.django_db(transaction=True)

BEAT = 0.2  # HEARTBEAT_INTERVAL in tests/settings.py


def running_task(make_task) -> str:
    task_id = str(make_task(kind="silent"))
    assert lifecycle.start_task(task_id)
    return task_id


def heartbeat_of(task_id):
    return TaskInfo.objects.values_list("heartbeat_at", flat=True).get(pk=task_id)


def wait_for(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def run_in_thread(task_id) -> None:
    """Run a job as a worker thread does, closing the thread's connection after (PostgreSQL keeps it open)."""
    try:
        run_task(task_id)
    finally:
        connection.close()


def heartbeat_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "heartbeat"]


class FakeCluster:
    """A ClusterWatch whose stop the test decides."""

    gone = False

    def __init__(self):
        self.reason = None

    def stopping(self):
        return self.reason


def test_jobs_start_no_thread_of_their_own(make_task):
    for _ in range(3):
        assert run_task(str(make_task(kind="counting", total_items=1, params={"items": 1}))) == Status.COMPLETED
    heartbeat = Heartbeat.of_this_process()
    threads = threading.active_count()
    for _ in range(5):
        assert run_task(str(make_task(kind="counting", total_items=1, params={"items": 1}))) == Status.COMPLETED
    assert threading.active_count() == threads
    assert Heartbeat.of_this_process() is heartbeat and heartbeat_threads() == [heartbeat]


def test_one_thread_beats_every_job_its_process_runs(make_task):
    task_ids = [str(make_task(kind="silent", params={"seconds": 0.8})) for _ in range(2)]
    workers = [threading.Thread(target=run_in_thread, args=(task_id,)) for task_id in task_ids]
    for worker in workers:
        worker.start()
    wait_for(lambda: all(TaskInfo.objects.get(pk=task_id).status == Status.RUNNING for task_id in task_ids))
    started = {task_id: heartbeat_of(task_id) for task_id in task_ids}
    wait_for(lambda: all(heartbeat_of(task_id) > started[task_id] for task_id in task_ids), timeout=3 * BEAT)
    assert len(heartbeat_threads()) == 1
    for worker in workers:
        worker.join(5)
    assert [TaskInfo.objects.get(pk=task_id).status for task_id in task_ids] == [Status.COMPLETED] * 2


def test_a_cancel_request_reaches_its_own_job_only(make_task, user):
    cancelled, going_on = running_task(make_task), running_task(make_task)
    told = []
    heartbeat = Heartbeat.of_this_process()
    for task_id in (cancelled, going_on):
        heartbeat.add(task_id, on_stop_requested=lambda task_id=task_id: told.append(task_id))
    try:
        lifecycle.cancel_task(cancelled, by=user)
        wait_for(lambda: told, timeout=3 * BEAT)
        time.sleep(2 * BEAT)  # more beats of both
    finally:
        heartbeat.remove(cancelled)
        heartbeat.remove(going_on)
    assert set(told) == {cancelled}
    assert TaskInfo.objects.get(pk=going_on).heartbeat_at > TaskInfo.objects.get(pk=going_on).started_at


def test_a_stopping_cluster_is_passed_on_once_to_each_job_it_runs(make_task):
    cluster = FakeCluster()
    in_cluster, outside = [running_task(make_task) for _ in range(2)], running_task(make_task)
    told = []
    heartbeat = Heartbeat.of_this_process()
    for task_id in in_cluster:
        heartbeat.add(task_id, on_stop_requested=lambda: None, cluster=cluster,
                      on_cluster_stopping=lambda reason, task_id=task_id: told.append((task_id, reason)))
    heartbeat.add(outside, on_stop_requested=lambda: None,
                  on_cluster_stopping=lambda reason: told.append((outside, reason)))
    try:
        cluster.reason = "cluster stopping"
        wait_for(lambda: len(told) == 2, timeout=1.0)  # polled every STOP_POLL_INTERVAL, not every beat
        time.sleep(2 * BEAT)
    finally:
        for task_id in (*in_cluster, outside):
            heartbeat.remove(task_id)
    assert sorted(told) == sorted((task_id, "cluster stopping") for task_id in in_cluster)


def test_no_news_reaches_a_job_once_it_is_removed(make_task, user):
    cluster = FakeCluster()
    task_id = running_task(make_task)
    told = []
    heartbeat = Heartbeat.of_this_process()
    heartbeat.add(task_id, on_stop_requested=lambda: told.append("cancel"), cluster=cluster,
                  on_cluster_stopping=lambda reason: told.append(reason))
    heartbeat.remove(task_id)
    lifecycle.cancel_task(task_id, by=user)
    cluster.reason = "cluster stopping"
    time.sleep(2 * BEAT)
    assert told == []
    assert TaskInfo.objects.get(pk=task_id).heartbeat_at == TaskInfo.objects.get(pk=task_id).started_at


def test_a_failing_callback_does_not_end_the_beats_of_later_jobs(make_task, user, caplog):
    failing, later = running_task(make_task), running_task(make_task)
    heartbeat = Heartbeat.of_this_process()

    def broken():
        raise RuntimeError("a bug in a callback")

    heartbeat.add(failing, on_stop_requested=broken)
    try:
        lifecycle.cancel_task(failing, by=user)
        wait_for(lambda: "heartbeat loop failed" in caplog.text, timeout=3 * BEAT)
    finally:
        heartbeat.remove(failing)
    told = []
    heartbeat.add(later, on_stop_requested=lambda: told.append(later))
    try:
        lifecycle.cancel_task(later, by=user)
        wait_for(lambda: told, timeout=5 * BEAT)
    finally:
        heartbeat.remove(later)
    assert heartbeat.is_alive() and Heartbeat.of_this_process() is heartbeat


def test_a_run_the_reaper_gave_up_on_is_not_beaten_over_the_next_one(make_task, user):
    task_id = running_task(make_task)
    told = []
    heartbeat = Heartbeat.of_this_process()
    heartbeat.add(task_id, on_stop_requested=lambda: told.append("stop"), attempt=1)
    try:
        TaskInfo.objects.filter(pk=task_id).update(attempt=2)  # queued again and started by another worker
        wait_for(lambda: told, timeout=3 * BEAT)
    finally:
        heartbeat.remove(task_id)
    assert TaskInfo.objects.get(pk=task_id).heartbeat_at == TaskInfo.objects.get(pk=task_id).started_at
