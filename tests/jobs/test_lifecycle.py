"""The task state machine: every legal move, and the refusal of every illegal one."""

import pytest

from jobs import lifecycle
from jobs.exceptions import JobCancelled, TaskAlreadyFinished
from jobs.models import Status, TaskInfo
from jobs.reporting import ProgressReporter

pytestmark = pytest.mark.django_db(transaction=True)


def row(task_id) -> TaskInfo:
    return TaskInfo.objects.get(pk=task_id)


@pytest.fixture(params=["orm", "after-commit"])
def queueing(request, monkeypatch) -> str:
    """Run a test with the ORM broker's queueing inside create_task's transaction, and with the
    after-commit queueing of a broker that is not transactional (Redis), pushing to the same queue."""
    if request.param == "after-commit":
        monkeypatch.setattr("jobs.queueing.commits_with_rows", lambda: False)
    return request.param


def test_new_task_is_pending_owned_and_enqueued(make_task, user, queueing):
    from django_q.models import OrmQ

    task = row(make_task(metadata={"topic": "t"}))
    assert (task.status, task.owner, task.metadata) == (Status.PENDING, user, {"topic": "t"})
    # The ORM broker's queue id goes into the INSERT; another broker's is written after commit.
    assert task.seq == (1 if queueing == "orm" else 2)
    [item] = OrmQ.objects.all()
    assert task.queue_task_id == item.task_id() and item.func() == "jobs.worker.run_task"
    assert item.args() == (str(task.pk),)


def test_create_task_queues_nothing_a_worker_can_see_before_commit(user, queueing):
    import threading

    from django.db import connection, transaction
    from django_q.models import OrmQ

    def visible_elsewhere() -> int:  # as a worker would look: from another connection
        seen = []
        thread = threading.Thread(target=lambda: (seen.append(OrmQ.objects.count()), connection.close()))
        thread.start()
        thread.join()
        return seen[0]

    with transaction.atomic():
        task_id = lifecycle.create_task("t", owner=user, params={"articles": []})
        assert visible_elsewhere() == 0
    assert visible_elsewhere() == 1
    assert row(task_id).queue_task_id == OrmQ.objects.get().task_id()


def test_a_task_created_in_a_transaction_that_rolls_back_is_never_queued(user, queueing):
    from django.db import transaction
    from django_q.models import OrmQ

    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.create_task("t", owner=user)
        raise RuntimeError("the caller's transaction fails")
    assert not TaskInfo.objects.exists() and not OrmQ.objects.exists()


def test_create_task_refuses_an_unknown_kind(user):
    with pytest.raises(LookupError, match="unknown task kind"):
        lifecycle.create_task("t", owner=user, kind="nope")
    assert not TaskInfo.objects.exists()


def test_pending_to_running_bumps_seq_and_sets_started(make_task):
    task_id = make_task()
    before = row(task_id).seq
    assert lifecycle.start_task(task_id)
    task = row(task_id)
    assert task.status == Status.RUNNING and task.started_at and task.heartbeat_at
    assert task.seq == before + 1


@pytest.mark.parametrize("final", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_running_task_reaches_each_final_state(make_task, final):
    task_id = make_task()
    lifecycle.start_task(task_id)
    assert lifecycle.finish_task(task_id, final, result={"ok": 1}, error="why")
    task = row(task_id)
    assert task.status == final and task.completed_at and task.result == {"ok": 1}


@pytest.mark.parametrize("first", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
@pytest.mark.parametrize("second", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_final_state_is_never_overwritten(make_task, first, second):
    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, first, result={"first": True})
    seq = row(task_id).seq
    assert not lifecycle.finish_task(task_id, second, result={"second": True})
    task = row(task_id)
    assert (task.status, task.result, task.seq) == (first, {"first": True}, seq)


def test_completed_task_cannot_start_again(make_task):
    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.COMPLETED)
    assert not lifecycle.start_task(task_id)
    assert row(task_id).status == Status.COMPLETED


def test_cancel_of_pending_task_ends_it_at_once_and_it_never_starts(make_task, user):
    task_id = make_task()
    task = lifecycle.cancel_task(task_id, by=user)
    assert task.status == Status.CANCELLED and "before it started" in task.error
    assert not lifecycle.start_task(task_id)


def test_cancel_of_running_task_only_requests_it(make_task, user):
    task_id = make_task()
    lifecycle.start_task(task_id)
    task = lifecycle.cancel_task(task_id, by=user)
    assert task.status == Status.RUNNING and task.cancel_requested_at


@pytest.mark.parametrize("final", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_cancel_of_finished_task_is_refused_with_its_status(make_task, user, final):
    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, final)
    with pytest.raises(TaskAlreadyFinished, match=final.value):
        lifecycle.cancel_task(task_id, by=user)


def test_progress_write_after_cancel_request_stops_the_job(make_task, user):
    task_id = make_task(total_items=10)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 10, interval=0)
    reporter(1)
    lifecycle.cancel_task(task_id, by=user)
    with pytest.raises(JobCancelled):
        reporter(2)
    # and every later call stops at once, without touching the row
    with pytest.raises(JobCancelled):
        reporter(3)


def test_late_progress_write_after_final_state_is_refused(make_task):
    task_id = make_task(total_items=10)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 10, interval=0)
    lifecycle.finish_task(task_id, Status.CANCELLED)
    seq = row(task_id).seq
    with pytest.raises(JobCancelled):
        reporter(5, current="late")
    task = row(task_id)
    assert (task.status, task.processed_items, task.current_item, task.seq) == (Status.CANCELLED, 0, "", seq)


def test_a_job_the_queue_refuses_ends_failed_with_the_reason_not_pending(user, monkeypatch, queueing):
    from django_q.models import OrmQ

    def broken_queue(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("jobs.queueing.async_task", broken_queue)
    task = row(lifecycle.create_task("t", owner=user))
    assert task.status == Status.FAILED
    assert task.error == "Could not enqueue the job: ConnectionError: broker unreachable"
    assert TaskInfo.objects.count() == 1 and not OrmQ.objects.exists()


def test_a_queue_refusal_that_passes_is_retried_after_commit_and_the_job_queued(user, monkeypatch):
    """The ORM broker's item could not be inserted in create_task's transaction (rolled back):
    queued after commit instead, the task runs as usual."""
    from django_q.models import OrmQ

    from jobs.queueing import async_task

    calls = []

    def refuses_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("broker hiccup")
        return async_task(*args, **kwargs)

    monkeypatch.setattr("jobs.queueing.async_task", refuses_once)
    task = row(lifecycle.create_task("t", owner=user))
    assert (task.status, TaskInfo.objects.count(), len(calls)) == (Status.PENDING, 1, 2)
    [item] = OrmQ.objects.all()
    assert task.queue_task_id == item.task_id() and item.args() == (str(task.pk),)


def test_a_job_that_returns_after_an_accepted_cancel_ends_cancelled_keeping_its_result(make_task, user):
    from notifications.models import Notification

    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.cancel_task(task_id, by=user)
    assert lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 10}, processed_items=10)
    task = row(task_id)
    assert (task.status, task.result, task.error) == (Status.CANCELLED, {"saved": 10}, "Cancelled on request")
    assert list(Notification.objects.values_list("type", flat=True)) == ["task_cancelled"]


def test_a_job_that_returns_without_a_cancel_ends_completed_at_full_progress(make_task):
    task_id = make_task()
    lifecycle.start_task(task_id)
    assert lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 10})
    task = row(task_id)
    assert (task.status, task.progress, task.error) == (Status.COMPLETED, 100.0, "")


def test_requeue_puts_a_pending_task_back_on_the_queue_and_leaves_others(make_task):
    from django_q.models import OrmQ

    task_id = make_task()
    before = OrmQ.objects.count()
    assert lifecycle.requeue_task(task_id)
    assert OrmQ.objects.count() == before + 1 and row(task_id).status == Status.PENDING
    lifecycle.start_task(task_id)
    assert not lifecycle.requeue_task(task_id)


def test_cancelling_a_task_deleted_meanwhile_is_not_found(make_task):
    from jobs.exceptions import TaskNotFound

    task_id = make_task()
    TaskInfo.objects.filter(pk=task_id).delete()
    with pytest.raises(TaskNotFound):
        lifecycle.cancel_task(task_id)
