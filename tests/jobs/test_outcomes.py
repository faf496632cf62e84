"""A finished job gives its owner exactly one notification, whatever path ended it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jobs import lifecycle, outcomes, reaper
from jobs.exceptions import TaskAlreadyFinished
from jobs.models import Status, TaskInfo
from notifications.models import Notification


def make_task(owner, total_items=3):
    return lifecycle.create_task(name="Bulk save of 3 articles", total_items=total_items, owner=owner)


@pytest.mark.django_db
def test_completed_task_notifies_its_owner_once_with_a_summary_and_link(user):
    task_id = make_task(user)
    assert lifecycle.start_task(task_id)
    result = {"saved": 2, "duplicates": 1, "errors": []}
    assert lifecycle.finish_task(task_id, Status.COMPLETED, result=result, processed_items=3)
    assert not lifecycle.finish_task(task_id, Status.COMPLETED, result=result)  # a retried final write
    assert not lifecycle.finish_task(task_id, Status.FAILED, error="late")
    [notification] = Notification.objects.all()
    assert notification.user == user
    assert notification.type == "task_complete"
    assert notification.link == f"/tasks/{task_id}/"
    assert notification.title == "Bulk save of 3 articles completed"
    assert notification.message == "2 articles saved, 1 duplicate skipped."


@pytest.mark.django_db
def test_failed_task_notification_carries_the_error(user):
    task_id = make_task(user)
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.FAILED, error="ValueError: bad feed\nTraceback ...")
    [notification] = Notification.objects.all()
    assert notification.type == "task_failed"
    assert notification.message.startswith("ValueError: bad feed")
    assert "Traceback" not in notification.message


@pytest.mark.django_db
def test_cancelled_task_notifies_once(user):
    task_id = make_task(user)
    lifecycle.cancel_task(task_id, by=user)
    with pytest.raises(TaskAlreadyFinished):
        lifecycle.cancel_task(task_id, by=user)
    [notification] = Notification.objects.all()
    assert notification.type == "task_cancelled"
    assert notification.user == user


@pytest.mark.django_db
def test_system_task_notifies_nobody(db):
    task_id = make_task(None)
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 1})
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_reaped_task_notifies_its_owner_once(user):
    task_id = make_task(user)
    lifecycle.start_task(task_id)
    TaskInfo.objects.filter(pk=task_id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert reaper.reap_stale_tasks(stale_after=60) == 1
    assert reaper.reap_stale_tasks(stale_after=60) == 0
    [notification] = Notification.objects.all()
    assert notification.type == "task_failed"
    assert notification.message.startswith("Worker lost")
    assert ".." not in notification.message and notification.message.endswith("3 items processed.")


@pytest.mark.django_db
def test_no_notification_when_the_finishing_transaction_rolls_back(user):
    task_id = make_task(user)
    lifecycle.start_task(task_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 1})
        raise RuntimeError("the enclosing work failed")
    assert Notification.objects.count() == 0
    assert TaskInfo.objects.get(pk=task_id).status == Status.RUNNING


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_racing_final_writes_and_the_reaper_give_one_notification(user):
    """Worker completion, a retried completion, a failure and the reaper race on PostgreSQL."""
    task_id = make_task(user)
    lifecycle.start_task(task_id)
    TaskInfo.objects.filter(pk=task_id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    barrier = threading.Barrier(6)
    outcomes = []

    def finish(action):
        try:
            barrier.wait()
            outcomes.append(action())
        finally:
            connection.close()

    actions = [
        lambda: lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 3}),
        lambda: lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 3}),
        lambda: lifecycle.finish_task(task_id, Status.FAILED, error="boom"),
        lambda: lifecycle.finish_task(task_id, Status.CANCELLED, error="cancelled"),
        lambda: bool(reaper.reap_stale_tasks(stale_after=60)),
        lambda: bool(reaper.reap_stale_tasks(stale_after=60)),
    ]
    threads = [threading.Thread(target=finish, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == [False] * 5 + [True]
    [notification] = Notification.objects.filter(user=user)
    final = TaskInfo.objects.get(pk=task_id).status
    assert notification.type == {"completed": "task_complete", "failed": "task_failed",
                                 "cancelled": "task_cancelled"}[final]


@pytest.mark.django_db
@pytest.mark.parametrize(("owned", "approved", "expected"), [
    (True, 2, ["auto_ingest_complete to owner"]),
    (True, 0, ["auto_ingest_complete to owner"]),  # the user asked: they hear even of nothing new
    (False, 2, ["auto_ingest_complete to everyone"]),
    (False, 0, []),  # an hourly scheduled run that found nothing tells nobody
])
def test_completed_auto_ingest_sends_only_the_auto_collect_notice(user, owned, approved, expected):
    task_id = lifecycle.create_task(name="Auto-collect articles from feeds", kind="auto_ingest",
                                    owner=user if owned else None)
    lifecycle.start_task(task_id)
    result = {"processed": 4, "approved": approved, "rejected": 4 - approved - 1, "failed": 1}
    lifecycle.finish_task(task_id, Status.COMPLETED, result=result)
    assert [f"{n.type} to {'owner' if n.user == user else 'everyone'}" for n in Notification.objects.all()] == expected
    for notice in Notification.objects.all():
        assert notice.title == "Auto-Collect Complete" and notice.link == "/keyword-alerts"
        assert notice.message == f"Processed 4 new articles: {approved} approved, {3 - approved} rejected, 1 failed."


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.FAILED, Status.CANCELLED])
def test_auto_ingest_that_did_not_complete_is_told_like_any_job(user, status):
    task_id = lifecycle.create_task(name="Auto-collect articles from feeds", kind="auto_ingest", owner=user)
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, status, result={"processed": 1, "approved": 1}, error="stopped")
    [notification] = Notification.objects.all()
    assert notification.type == {Status.FAILED: "task_failed", Status.CANCELLED: "task_cancelled"}[status]
    assert notification.user == user


@pytest.mark.parametrize(("number", "noun", "expected"), [
    (0, "URL", "0 URLs"), (1, "URL", "1 URL"), (2, "URL", "2 URLs"), (1, "new article", "1 new article"),
])
def test_counted_agrees_the_noun_with_the_number(number, noun, expected):
    assert outcomes.counted(number, noun) == expected


def test_counted_takes_an_irregular_plural():
    assert outcomes.counted(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(("parts", "expected"), [
    (("worker lost (more than 60 s); it died.", "0 of 3 items processed"),
     "Worker lost (more than 60 s); it died. 0 of 3 items processed."),
    (("", "done.."), "Done."),
    (("Is it?", "  "), "Is it?"),
    ((), ""),
])
def test_sentences_end_in_one_stop_each(parts, expected):
    assert outcomes.sentences(*parts) == expected


@pytest.mark.django_db
def test_the_default_notice_tells_no_machine_output(user):
    task_id = lifecycle.create_task(name="Counting to 5", total_items=5, owner=user, kind="counting")
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.COMPLETED, result={"counted": 5, "skipped_urls": [], "ok": True},
                          processed_items=5)
    [notification] = Notification.objects.all()
    assert (notification.title, notification.message) == ("Counting to 5 completed", "5 of 5 items processed.")


@pytest.mark.django_db
def test_a_cancelled_task_says_who_cancelled_it_in_a_sentence(user):
    task_id = lifecycle.create_task(name="Counting to 5", total_items=5, owner=user, kind="counting")
    lifecycle.cancel_task(task_id, by=user)
    [notification] = Notification.objects.all()
    assert notification.title == "Counting to 5 was cancelled"
    assert notification.message == "Cancelled by alice before it started. 0 of 5 items processed."
