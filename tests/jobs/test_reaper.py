"""The reaper: running rows whose worker stopped beating, and pending rows never queued."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.reaper import reap_stale_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def running_since(make_task, started_ago: float, beat_ago: float):
    task_id = make_task()
    lifecycle.start_task(task_id)
    now = timezone.now()
    TaskInfo.objects.filter(pk=task_id).update(
        started_at=now - timedelta(seconds=started_ago), heartbeat_at=now - timedelta(seconds=beat_ago)
    )
    return task_id


def test_running_task_with_a_stale_heartbeat_is_failed_as_worker_lost(make_task):
    task_id = running_since(make_task, started_ago=100, beat_ago=90)
    assert reap_stale_tasks(stale_after=60) == 1
    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.FAILED
    assert task.error.startswith("Worker lost") and "died or was killed" in task.error


def test_running_task_with_a_fresh_heartbeat_is_left_alone(make_task):
    task_id = running_since(make_task, started_ago=1000, beat_ago=5)
    assert reap_stale_tasks(stale_after=60) == 0
    assert TaskInfo.objects.get(pk=task_id).status == Status.RUNNING


def test_worker_lost_at_its_queue_timeout_says_so(make_task, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "TASK_TIMEOUT": 300}
    task_id = running_since(make_task, started_ago=400, beat_ago=100)  # beat for 300 s, then silence
    assert reap_stale_tasks(stale_after=60) == 1
    assert "queue's timeout of 300 s for bulk_save jobs" in TaskInfo.objects.get(pk=task_id).error


def test_pending_task_that_never_reached_the_queue_is_failed(make_task):
    task_id = make_task()
    TaskInfo.objects.filter(pk=task_id).update(queue_task_id="", created_at=timezone.now() - timedelta(minutes=5))
    assert reap_stale_tasks(stale_after=60) == 1
    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.FAILED and task.error.startswith("Never reached the queue")


def test_queued_pending_task_is_left_waiting_however_old(make_task):
    task_id = make_task()  # queue_task_id set after commit
    TaskInfo.objects.filter(pk=task_id).update(created_at=timezone.now() - timedelta(hours=5))
    assert reap_stale_tasks(stale_after=60) == 0
    assert TaskInfo.objects.get(pk=task_id).status == Status.PENDING


def test_reap_tasks_loop_reaps_each_round_until_sigint(make_task):
    import os
    import signal
    import threading
    from io import StringIO

    from django.core.management import call_command

    task_id = running_since(make_task, started_ago=100, beat_ago=90)
    output = StringIO()
    previous = signal.getsignal(signal.SIGINT)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    call_command("reap_tasks", "--loop", "--interval", "0.05", "--stale-after", "60", stdout=output)
    assert "Reaped 1 stale tasks." in output.getvalue() and "Reaper stopped." in output.getvalue()
    assert TaskInfo.objects.get(pk=task_id).status == Status.FAILED
    assert signal.getsignal(signal.SIGINT) is previous
