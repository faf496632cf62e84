"""The announce path publishes a task's last state once per commit, and its snapshot as the REST API shows it."""

import pytest
from django.db import transaction
from django.db.models import F

from jobs import lifecycle
from jobs.announce import announce_on_commit
from jobs.messages import task_update_message
from jobs.models import Status, TaskInfo
from jobs.serializers import TaskInfoSerializer, task_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    """Every job message the publisher is handed, as (job id, status word, seq)."""
    sent = []
    monkeypatch.setattr("realtime.publisher.publish_job_message",
                        lambda message, owner_id, refresh=None: sent.append(
                            (message["job_id"], message["status"], message["seq"])))
    return sent


def bump(task_id) -> TaskInfo:
    """Write the row once (seq + 1) and return it as written."""
    [row] = TaskInfo.objects.filter(pk=task_id).update_returning(seq=F("seq") + 1)
    return row


def test_two_announcements_of_a_task_in_one_transaction_publish_its_last_state_once(make_task, published):
    task_id = str(make_task())
    published.clear()
    with transaction.atomic():
        announce_on_commit(task_id, row=bump(task_id))
        last = bump(task_id)
        announce_on_commit(task_id, row=last)
    assert published == [(task_id, "pending", last.seq)]


def test_announcements_of_different_tasks_in_one_transaction_are_all_published_in_order(make_task, published):
    first, second = str(make_task()), str(make_task())
    published.clear()
    with transaction.atomic():
        announce_on_commit(first, row=bump(first))
        announce_on_commit(second, row=bump(second))
        announce_on_commit(first, row=bump(first))
    assert [job_id for job_id, _, _ in published] == [second, first]


def test_an_announcement_with_its_own_words_is_never_dropped(make_task, published):
    task_id = str(make_task())
    published.clear()
    with transaction.atomic():
        announce_on_commit(task_id, "batch_update", row=bump(task_id), batch_completed=1)
        announce_on_commit(task_id, row=bump(task_id))
    assert [status for _, status, _ in published] == ["batch_update", "pending"]


def test_a_later_announcement_rolled_back_with_its_savepoint_leaves_the_earlier_one(make_task, published):
    task_id = str(make_task())
    published.clear()
    with transaction.atomic():
        kept = bump(task_id)
        announce_on_commit(task_id, row=kept)
        try:
            with transaction.atomic():
                announce_on_commit(task_id, row=bump(task_id))
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
    assert published == [(task_id, "pending", kept.seq)]


def test_announcements_of_a_rolled_back_transaction_never_supersede_the_next_ones(make_task, published):
    task_id = str(make_task())
    published.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        announce_on_commit(task_id, row=bump(task_id))
        raise RuntimeError("roll back")
    with transaction.atomic():
        row = bump(task_id)
        announce_on_commit(task_id, row=row)
    assert published == [(task_id, "pending", row.seq)]


def test_an_announcement_outside_a_transaction_is_published_at_once(make_task, published):
    task_id = str(make_task())
    published.clear()
    announce_on_commit(task_id, row=bump(task_id))
    assert len(published) == 1


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.COMPLETED, Status.FAILED])
def test_the_announced_snapshot_is_the_rest_snapshot(make_task, status):
    task_id = make_task(total_items=4)
    if status != Status.PENDING:
        lifecycle.start_task(task_id)
    if status in (Status.COMPLETED, Status.FAILED):
        lifecycle.finish_task(task_id, status, result={"done": 4}, error="", processed_items=4)
    task = TaskInfo.objects.select_related("owner").get(pk=task_id)
    expected = steady(dict(TaskInfoSerializer(task).data))  # as the REST views build it, afresh
    assert steady(task_snapshot(task)) == expected
    assert steady(task_snapshot(task)) == expected  # the serializer kept for the next one gives the same
    assert steady(task_update_message(task)["task"]) == expected


def steady(snapshot: dict) -> dict:
    """The snapshot without the figures a running task's clock moves on between two readings."""
    moving = ("elapsed_seconds", "items_per_second", "eta_seconds")
    return {name: ("…" if name in moving and snapshot["status"] == Status.RUNNING else value)
            for name, value in snapshot.items()}
