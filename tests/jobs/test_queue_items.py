"""Queue items a cluster took and will not run are freed: all at its stop, after STALE_AFTER by the reaper."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from jobs import lifecycle
from jobs.models import Status
from jobs.queue_items import release_held_items
from jobs.reaper import reap_stale_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def item_of(task_id) -> OrmQ:
    return next(item for item in OrmQ.objects.all() if list(item.task.get("args") or ()) == [str(task_id)])


def take(task_id, seconds_ago: float) -> None:
    """Mark the task's queue item as taken by a cluster seconds_ago (what the broker's dequeue writes)."""
    OrmQ.objects.filter(pk=item_of(task_id).pk).update(
        lock=timezone.now() - timedelta(seconds=seconds_ago) + timedelta(seconds=Conf.RETRY))


def visible(task_id) -> bool:
    return item_of(task_id).lock <= timezone.now()


def test_the_reaper_frees_pending_items_held_longer_than_stale_after(make_task, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "STALE_AFTER": 5}
    held_long, held_briefly = make_task(), make_task()
    take(held_long, seconds_ago=30)
    take(held_briefly, seconds_ago=1)
    reap_stale_tasks()
    assert visible(held_long) and not visible(held_briefly)


def test_items_of_finished_tasks_are_deleted_and_of_running_ones_kept(make_task):
    finished, running = make_task(), make_task()
    lifecycle.cancel_task(finished)
    lifecycle.start_task(running)
    take(finished, seconds_ago=30)
    take(running, seconds_ago=30)
    assert release_held_items() == 1
    assert not any(list(item.task.get("args") or ()) == [str(finished)] for item in OrmQ.objects.all())
    assert not visible(running)
    assert lifecycle.TaskInfo.objects.get(pk=finished).status == Status.CANCELLED
