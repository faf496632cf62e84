"""The worker entry point, called directly as django-q2 would call it."""

import logging
import os
import signal
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


def test_silent_job_cancelled_while_running_ends_cancelled_when_it_returns(make_task, user):
    from notifications.models import Notification

    task_id = make_task(kind="silent", params={"seconds": 0.5})
    worker = threading.Thread(target=run_task, args=(str(task_id),))
    worker.start()
    while TaskInfo.objects.get(pk=task_id).status != Status.RUNNING:
        time.sleep(0.01)
    lifecycle.cancel_task(task_id, by=user)
    worker.join(10)
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.result) == (Status.CANCELLED, {"slept": 0.5})
    assert Notification.objects.filter(type="task_cancelled").count() == 1


def timing_out_job(progress_callback, items: int = 3):
    """Report items, then run into the queue's timeout as django-q2 delivers it (a SystemExit)."""
    from django_q.exceptions import TimeoutException

    from tests.jobs.jobfuncs import counting_job

    counting_job(progress_callback, items=items)
    try:
        raise TimeoutException("Task exceeded maximum timeout value (7 seconds)")
    except BaseException as timed_out:
        timed_out.partial_result = {"counted": items}
        raise


@pytest.fixture
def timing_out_kind(settings):
    kinds = f"{settings.STATUSMSG['EXTRA_JOB_KINDS']},timing_out=tests.jobs.test_worker.timing_out_job"
    settings.STATUSMSG = {**settings.STATUSMSG, "EXTRA_JOB_KINDS": kinds, "TASK_TIMEOUT": 7}


def test_timed_out_job_ends_failed_keeping_its_partial_result_and_lets_the_queue_see_it(make_task, timing_out_kind):
    from django_q.exceptions import TimeoutException

    from notifications.models import Notification

    task_id = make_task(kind="timing_out", total_items=10, params={"items": 3})
    with pytest.raises(TimeoutException):  # django-q2 must still see it, to replace the process
        run_task(str(task_id))
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.error, task.result) == (Status.FAILED, "Timed out after 7 s", {"counted": 3})
    assert task.processed_items == 3
    assert Notification.objects.filter(type="task_failed").count() == 1


def test_sigterm_to_the_worker_ends_its_job_failed_with_the_partial_result(make_task):
    from jobs.stopping import WorkerStopped

    task_id = make_task(kind="counting", total_items=1000, params={"items": 1000, "delay": 0.01})
    previous = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    with pytest.raises(WorkerStopped):  # and the worker process exits: it takes no next job
        run_task(str(task_id))  # in the main thread, which alone may own signal handlers
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.error) == (Status.FAILED, "Worker stopped by signal")
    assert 0 < task.result["counted"] < 1000 and task.processed_items == task.result["counted"]
    assert signal.getsignal(signal.SIGTERM) is previous


def test_final_write_reconnects_and_retries_after_a_lost_connection(make_task, monkeypatch):
    from django.db import OperationalError

    real_end = lifecycle.end_task
    attempts = []

    def finish_once_the_database_is_back(*args, **kwargs):
        attempts.append(args)
        if len(attempts) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real_end(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "end_task", finish_once_the_database_is_back)
    monkeypatch.setattr("jobs.worker.FINAL_WRITE_DELAYS", (0.01, 0.01, 0.01))
    task_id = make_task(kind="counting", total_items=5, params={"items": 5, "fail_at": 4})
    assert run_task(str(task_id)) == Status.FAILED
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.error, len(attempts)) == ("ValueError: item 4 is broken", 3)


def test_outside_a_cluster_the_worker_has_no_cluster_to_watch():
    from jobs.stopping import ClusterWatch

    assert ClusterWatch.of_this_process() is None


def test_a_job_handed_out_as_its_cluster_stops_is_put_back_on_the_queue_unstarted(make_task, monkeypatch):
    from django_q.models import OrmQ

    class StoppingCluster:
        gone = False

        def stopping(self):
            return "cluster stopping"

    monkeypatch.setattr("jobs.worker.ClusterWatch.of_this_process", lambda: StoppingCluster())
    task_id = make_task(kind="counting", total_items=5, params={"items": 5})
    queued = OrmQ.objects.count()
    assert run_task(str(task_id)) == "requeued"
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.started_at) == (Status.PENDING, None) and OrmQ.objects.count() == queued + 1


def test_a_stopped_job_that_reports_no_progress_is_interrupted_after_the_grace(make_task, monkeypatch):
    from jobs.stopping import WorkerStopped

    monkeypatch.setattr("jobs.worker.STOP_GRACE", 0.3)
    task_id = make_task(kind="silent", params={"seconds": 30})
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
    started = time.monotonic()
    with pytest.raises(WorkerStopped):
        run_task(str(task_id))
    assert time.monotonic() - started < 2
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.error, task.result) == (Status.FAILED, "Worker stopped by signal", None)


def test_the_timeout_alarm_asks_the_job_to_stop_then_raises_after_the_grace():
    from django_q.exceptions import TimeoutException

    from jobs.stopping import StopSignals

    requests = []
    signals = StopSignals(on_stop=lambda: requests.append(time.monotonic()))
    previous = signal.getsignal(signal.SIGALRM)
    signals.install(timeout_grace=0.2)
    try:
        signals.arm()
        signal.setitimer(signal.ITIMER_REAL, 0.1)  # as django-q2's alarm would fire
        started = time.monotonic()
        with pytest.raises(TimeoutException):
            while True:  # a job that never reaches a progress report
                time.sleep(0.01)
        assert len(requests) == 1 and signals.timed_out
        assert 0.25 < time.monotonic() - started < 1
    finally:
        signals.disarm()
        signals.restore()
    assert signal.getsignal(signal.SIGALRM) is previous


def test_a_one_item_job_costs_one_read_and_three_row_writes(make_task, user):
    """Read the row; start, progress and finish are each one UPDATE … RETURNING; the notice one INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    task_id = make_task(kind="counting", total_items=1, params={"items": 1})
    with CaptureQueriesContext(connection) as queries:
        assert run_task(str(task_id)) == Status.COMPLETED
    statements = [query["sql"].split()[0] for query in queries.captured_queries
                  if query["sql"].split()[0] in ("SELECT", "UPDATE", "INSERT", "DELETE")]
    assert statements == ["SELECT", "UPDATE", "UPDATE", "UPDATE", "INSERT"]


def test_a_result_the_row_cannot_hold_still_ends_the_task_failed_with_why(make_task, user):
    from jobs.registry import TaskKind, register

    register(TaskKind("unstorable", "tests.jobs.jobfuncs.unstorable_job", timeout=60))
    task_id = make_task(kind="unstorable", total_items=0)
    assert run_task(str(task_id)) == Status.FAILED
    task = TaskInfo.objects.get(pk=task_id)
    assert task.error.startswith("The job's ending could not be stored: TypeError")
    assert task.result is None


def test_a_kind_whose_outcome_wording_fails_still_ends_and_tells_the_owner(make_task, user):
    from jobs.registry import TaskKind, register
    from notifications.models import Notification

    register(TaskKind("badly_worded", "tests.jobs.jobfuncs.counting_job", timeout=60,
                      outcome_path="tests.jobs.jobfuncs.broken_describe"))
    task_id = make_task(kind="badly_worded", total_items=1, params={"items": 1})
    assert run_task(str(task_id)) == Status.COMPLETED
    [notice] = Notification.objects.filter(user=user)
    assert notice.type == "task_complete"


@pytest.mark.parametrize(("result", "success", "saved"), [
    (Status.COMPLETED, True, False),
    (Status.FAILED, True, False),
    (Status.CANCELLED, True, False),
    ("not-started", True, True),
    ("requeued", True, True),
    ("Task exceeded maximum timeout value", False, True),
])
def test_django_q2_keeps_a_queue_result_only_for_a_job_whose_row_did_not_end(result, success, saved):
    from jobs.worker import keep_no_queue_result

    task = {"result": result, "success": success}
    keep_no_queue_result(sender="django_q", func=run_task, task=task)
    assert task.get("save", True) is saved
    other = {"result": Status.COMPLETED, "success": True}
    keep_no_queue_result(sender="django_q", func=print, task=other)  # not ours: left as it is
    assert "save" not in other


@pytest.mark.parametrize("owned", [True, False], ids=["owned", "system"])
def test_the_worker_reads_its_row_and_owner_as_the_orm_does(make_task, user, owned):
    import uuid

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.queries import read_task

    def fields_of(instance) -> dict:
        return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}

    task_id = make_task(owner=user if owned else None, kind="counting", total_items=3,
                        params={"items": 3, "nested": {"ok": [1, "2"]}})
    lifecycle.start_task(task_id)
    with CaptureQueriesContext(connection) as queries:
        task = read_task(str(task_id))
        owner = task.owner
    expected = TaskInfo.objects.select_related("owner").get(pk=task_id)
    assert len(queries) == 1  # the owner came with the row
    assert fields_of(task) == fields_of(expected)
    assert (fields_of(owner) if owned else owner) == (fields_of(expected.owner) if owned else None)
    assert read_task(str(uuid.uuid4())) is None


def queued_again_meanwhile_job(progress_callback):
    """Report, then find the running row given to a next run (the reaper queued it again and it started)."""
    from django.db.models import F

    progress_callback(1)
    TaskInfo.objects.filter(status=Status.RUNNING).update(attempt=F("attempt") + 1)
    progress_callback(2)  # the throttle lets this one through only after the interval: it may not write
    return {"counted": 2}


def test_a_run_given_up_on_writes_nothing_over_the_next_run(make_task, user):
    from jobs.registry import TaskKind, register

    register(TaskKind("queued_again", "tests.jobs.test_worker.queued_again_meanwhile_job", timeout=60))
    task_id = make_task(kind="queued_again", total_items=0)
    run_task(str(task_id))
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.status, task.attempt, task.result, task.completed_at) == (Status.RUNNING, 2, None, None)
