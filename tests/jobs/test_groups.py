"""Task groups: a big task split into chunks, told as one task (jobs.groups, jobs.lifecycle)."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from jobs import lifecycle, registry
from jobs.exceptions import JobCancelled, TaskInGroup
from jobs.models import Status, TaskInfo
from jobs.reaper import reap_stale_tasks
from jobs.reporting import ProgressReporter
from jobs.serializers import task_snapshot
from jobs.worker import run_task
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)

KIND = "test_group"


def item_job(progress_callback, items: list, fail: list | None = None):
    """Count items, failing those listed in fail; the shape a group's merge adds up."""
    errors = [{"item": item, "error": "broken"} for item in items if item in (fail or [])]
    for done, item in enumerate(items, start=1):
        progress_callback(done, current=item)
    return {"ok": len(items) - len(errors), "failed": len(errors), "errors": errors}


@pytest.fixture(autouse=True)
def group_kind(settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "CHUNK_SIZE": 50, "CHUNK_ATTEMPTS": 2, "PROGRESS_INTERVAL": 0}
    registry.register(registry.TaskKind(KIND, f"{__name__}.item_job", timeout=60, chunk_param="items"))
    yield
    registry._registered.pop(KIND)


def start_group(owner, count=120, **params) -> str:
    items = [f"item-{n}" for n in range(count)]
    return str(lifecycle.create_task("Big job", total_items=count, owner=owner, kind=KIND,
                                     params={"items": items, **params}))


def chunks_of(parent_id) -> list[TaskInfo]:
    return list(TaskInfo.objects.filter(parent_id=parent_id).order_by("chunk_index"))


def row(task_id) -> TaskInfo:
    return TaskInfo.objects.get(pk=task_id)


def test_a_big_task_becomes_a_parent_with_a_queued_chunk_per_chunk_size_items(user):
    parent_id = start_group(user, 120)
    parent, chunks = row(parent_id), chunks_of(parent_id)
    assert (parent.status, parent.total_items, parent.children_total, parent.queue_task_id) == (
        Status.PENDING, 120, 3, "")
    assert [chunk.total_items for chunk in chunks] == [50, 50, 20]
    assert [chunk.params["items"][0] for chunk in chunks] == ["item-0", "item-50", "item-100"]
    assert all(chunk.queue_task_id and chunk.owner_id == user.pk for chunk in chunks)
    assert OrmQ.objects.count() == 3  # the chunks are queued, the parent never is
    snapshot = task_snapshot(parent)
    assert snapshot["parent_id"] is None
    assert snapshot["children"] == {"total": 3, "pending": 3, "running": 0, "completed": 0, "failed": 0,
                                    "cancelled": 0}
    assert task_snapshot(chunks[0])["parent_id"] == str(parent.pk) and task_snapshot(chunks[0])["children"] is None


def test_a_task_of_chunk_size_items_or_fewer_runs_whole(user):
    task_id = start_group(user, 50)
    assert row(task_id).children_total == 0 and not chunks_of(task_id)
    assert task_snapshot(row(task_id))["children"] is None


def test_the_group_runs_from_its_first_chunk_start_to_its_last_chunk_end_and_tells_once(user):
    parent_id = start_group(user, 120, fail=["item-3", "item-110"])
    first, second, third = chunks_of(parent_id)
    assert run_task(str(first.pk)) == Status.COMPLETED
    parent = row(parent_id)
    assert parent.status == Status.RUNNING and parent.started_at is not None and parent.processed_items == 50
    assert run_task(str(second.pk)) == Status.COMPLETED
    assert run_task(str(third.pk)) == Status.COMPLETED
    parent = row(parent_id)
    assert (parent.status, parent.processed_items, parent.progress) == (Status.COMPLETED, 120, 100.0)
    assert parent.result["ok"] == 118 and parent.result["failed"] == 2
    assert [entry["item"] for entry in parent.result["errors"]] == ["item-3", "item-110"]
    [notification] = Notification.objects.all()  # for the group; none for its chunks
    assert str(parent_id) in notification.link


def test_a_group_whose_every_item_failed_fails(user):
    items = [f"item-{n}" for n in range(60)]
    parent_id = start_group(user, 60, fail=items)
    for chunk in chunks_of(parent_id):
        run_task(str(chunk.pk))
    parent = row(parent_id)
    assert parent.status == Status.FAILED and parent.result["failed"] == 60
    assert "All 60 items failed" in parent.error
    assert Notification.objects.count() == 1


def test_chunks_add_their_progress_to_the_parent_without_losing_a_count(user):
    parent_id = start_group(user, 120)
    reporters = []
    for chunk in chunks_of(parent_id):
        assert lifecycle.start_task(chunk.pk)
        reporters.append(ProgressReporter(str(chunk.pk), chunk.total_items, interval=0))
    for step in range(1, 21):  # interleaved, as chunks on three workers write
        for reporter in reporters:
            reporter.update(step)
    assert row(parent_id).processed_items == 60
    reporters[0].update(50)
    parent = row(parent_id)
    assert parent.processed_items == 90 and parent.progress == pytest.approx(75.0)


def test_the_parent_is_announced_at_most_once_per_progress_interval(user, settings, monkeypatch):
    settings.STATUSMSG = {**settings.STATUSMSG, "PROGRESS_INTERVAL": 60}
    sent = []
    monkeypatch.setattr("jobs.announce.publisher.publish_job_message",
                        lambda message, owner_id, refresh=None: sent.append(message) or True)
    parent_id = start_group(user, 120)
    sent.clear()
    for chunk in chunks_of(parent_id):
        lifecycle.start_task(chunk.pk)
        reporter = ProgressReporter(str(chunk.pk), chunk.total_items, interval=0)
        for step in range(1, 11):
            reporter.update(step)
    about_parent = [message for message in sent if message["job_id"] == str(parent_id)]
    assert len(about_parent) == 1 and about_parent[0]["task"]["status"] == Status.RUNNING
    assert row(parent_id).processed_items == 30  # every write counted, one announced


def test_cancelling_a_pending_group_cancels_it_and_every_chunk_at_once(user):
    parent_id = start_group(user, 120)
    task = lifecycle.cancel_task(parent_id, by=user)
    assert task.status == Status.CANCELLED
    assert {chunk.status for chunk in chunks_of(parent_id)} == {Status.CANCELLED}
    assert Notification.objects.count() == 1


def test_cancelling_a_running_group_stops_its_running_chunk_at_its_next_report(user):
    parent_id = start_group(user, 120)
    first, *others = chunks_of(parent_id)
    lifecycle.start_task(first.pk)
    reporter = ProgressReporter(str(first.pk), first.total_items, interval=0)
    reporter.update(10)
    assert lifecycle.cancel_task(parent_id, by=user).status == Status.RUNNING
    assert [row(chunk.pk).status for chunk in others] == [Status.CANCELLED, Status.CANCELLED]
    with pytest.raises(JobCancelled):
        reporter.update(11)
    lifecycle.end_task(first.pk, Status.CANCELLED, processed_items=11)
    parent = row(parent_id)
    assert parent.status == Status.CANCELLED and parent.processed_items == 11
    assert Notification.objects.count() == 1


def test_a_chunk_alone_cannot_be_cancelled(user, api):
    parent_id = start_group(user, 120)
    chunk = chunks_of(parent_id)[0]
    with pytest.raises(TaskInGroup):
        lifecycle.cancel_task(chunk.pk, by=user)
    response = api.delete(f"/api/background-tasks/task/{chunk.pk}")
    assert response.status_code == 409
    assert response.json()["group_id"] == parent_id and "cancel the group" in response.json()["detail"]
    assert row(chunk.pk).status == Status.PENDING


def _lose_worker_of(chunk_id) -> None:
    """Make a running chunk look as if its worker died a while ago."""
    TaskInfo.objects.filter(pk=chunk_id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))


def test_a_lost_chunk_runs_again_once_then_counts_its_items_as_failed(user):
    parent_id = start_group(user, 120)
    lost, second, third = chunks_of(parent_id)
    lifecycle.start_task(lost.pk)
    ProgressReporter(str(lost.pk), lost.total_items, interval=0).update(20)
    assert row(parent_id).processed_items == 20
    _lose_worker_of(lost.pk)
    queued = OrmQ.objects.count()
    assert reap_stale_tasks(stale_after=60) == 1
    again = row(lost.pk)
    assert (again.status, again.attempt, again.processed_items) == (Status.PENDING, 2, 0)
    assert "Worker lost" in again.error and OrmQ.objects.count() == queued + 1
    assert row(parent_id).processed_items == 0  # its lost work no longer counts

    lifecycle.start_task(lost.pk)
    _lose_worker_of(lost.pk)
    assert reap_stale_tasks(stale_after=60) == 1
    assert row(lost.pk).status == Status.FAILED  # its last attempt
    run_task(str(second.pk))
    run_task(str(third.pk))
    parent = row(parent_id)
    assert parent.status == Status.COMPLETED and parent.processed_items == 120
    assert parent.result["failed"] == 50 and parent.result["ok"] == 70
    assert parent.result["errors"][0]["item"] == "item-0" and "Worker lost" in parent.result["errors"][0]["error"]
    assert Notification.objects.count() == 1


def test_the_reaper_leaves_a_group_parent_alone_and_settles_a_stranded_one(user):
    parent_id = start_group(user, 120)
    TaskInfo.objects.filter(pk=parent_id).update(created_at=timezone.now() - timedelta(hours=1))
    assert reap_stale_tasks(stale_after=1) == 0 and row(parent_id).status == Status.PENDING
    # Its chunks ended but it did not (as if the last ending's transaction had failed).
    TaskInfo.objects.filter(parent_id=parent_id).update(status=Status.COMPLETED, result={"ok": 40, "failed": 0},
                                                        processed_items=40)
    assert reap_stale_tasks(stale_after=60) == 1
    parent = row(parent_id)
    assert parent.status == Status.COMPLETED and parent.result["ok"] == 120


def test_the_task_list_shows_each_group_once_unless_asked_for_chunks(user, api):
    parent_id = start_group(user, 120)
    single = start_group(user, 10)
    listed = api.get("/api/background-tasks/tasks").json()
    assert [task["id"] for task in listed["tasks"]] == [single, parent_id]
    assert listed["summary"]["total"] == 2 and listed["tasks"][1]["children"]["pending"] == 3
    everything = api.get("/api/background-tasks/tasks?include_children=true").json()
    assert everything["count"] == 5
    refused = api.get("/api/background-tasks/tasks?include_children=maybe")
    assert refused.status_code == 400 and "include_children" in refused.json()


def test_the_children_endpoint_lists_a_groups_chunks_in_order_for_its_owner_only(user, api, other_api, staff_api):
    parent_id = start_group(user, 120)
    page = api.get(f"/api/background-tasks/task/{parent_id}/children?limit=2").json()
    assert [task["name"] for task in page["tasks"]] == ["Big job, chunk 1 of 3", "Big job, chunk 2 of 3"]
    assert page["count"] == 3 and page["next"] and page["summary"]["pending"] == 3
    assert all(task["parent_id"] == parent_id for task in page["tasks"])
    assert other_api.get(f"/api/background-tasks/task/{parent_id}/children").status_code == 404
    assert staff_api.get(f"/api/background-tasks/task/{parent_id}/children").json()["count"] == 3


def test_a_chunks_update_goes_to_its_own_subscribers_only():
    from realtime.groups import job_group
    from realtime.publisher import _job_event

    task = {"parent_id": "p", "metadata": {"topic": "solar"}}
    groups, _ = _job_event({"job_id": "c", "seq": 1, "task": task}, owner_id=7)
    assert groups == [job_group("c")]
    groups, _ = _job_event({"job_id": "p", "seq": 1, "task": {**task, "parent_id": None}}, owner_id=7)
    assert len(groups) == 4


def test_an_extra_job_kind_may_split_into_a_group(settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "EXTRA_JOB_KINDS": "plain=a.b,split=a.c:items"}
    kinds = registry.extra_task_kinds()
    assert (kinds["plain"].chunk_param, kinds["split"].chunk_param, kinds["split"].function_path) == (
        None, "items", "a.c")


def test_a_groups_page_draws_its_chunks_and_a_chunks_page_links_to_its_group(user, client):
    client.force_login(user)
    parent_id = start_group(user, 120)
    first = chunks_of(parent_id)[0]
    run_task(str(first.pk))
    page = client.get(f"/tasks/{parent_id}/").content.decode()
    assert page.count('class="chunk chunk-') == 3 + 5  # three cells, five legend swatches
    assert f'href="/tasks/{first.pk}/" data-chunk-id="{first.pk}"' in page and "chunk-completed" in page
    assert '<span data-chunk-count="pending">2</span>' in page
    chunk_page = client.get(f"/tasks/{first.pk}/").content.decode()
    assert f'<a href="/tasks/{parent_id}/">Big job</a>' in chunk_page
    assert 'data-action="cancel"' not in chunk_page  # it is cancelled with its group


def test_a_chunks_progress_write_and_its_groups_count_commit_together(user, monkeypatch):
    from django.db import DatabaseError

    parent_id = start_group(user, 120)
    chunk = chunks_of(parent_id)[0]
    lifecycle.start_task(chunk.pk)
    reporter = ProgressReporter(str(chunk.pk), chunk.total_items, interval=0, in_group=True)

    def refused(*args, **kwargs):
        raise DatabaseError("parent row unavailable")

    monkeypatch.setattr("jobs.groups.add_progress", refused)
    with pytest.raises(DatabaseError):
        reporter.update(7)
    assert row(chunk.pk).processed_items == 0 and row(parent_id).processed_items == 0


def test_cleanup_deletes_a_group_with_its_chunks_and_never_a_chunk_alone(user):
    from jobs.cleanup import cleanup_old_tasks, delete_finished_tasks

    parent_id = start_group(user, 120)
    first = chunks_of(parent_id)[0]
    run_task(str(first.pk))
    TaskInfo.objects.filter(pk=first.pk).update(completed_at=timezone.now() - timedelta(days=9))
    assert cleanup_old_tasks(max_age_hours=1) == 0 and delete_finished_tasks([first.pk]) == 0
    lifecycle.cancel_task(parent_id, by=user)
    TaskInfo.objects.filter(pk=parent_id).update(completed_at=timezone.now() - timedelta(days=9))
    assert cleanup_old_tasks(max_age_hours=1) == 4  # the group and its three chunks
    assert not TaskInfo.objects.exists()


def test_a_waiting_group_is_not_counted_in_the_queue(user):
    from jobs.serializers import queue_position

    parent_id = start_group(user, 120)
    later = start_group(user, 10)
    assert queue_position(row(later)) == 4  # behind the three chunks, not the group itself
    assert queue_position(row(parent_id)) == 1


def test_the_admins_cancel_action_leaves_a_chunk_alone_and_says_so(admin_client, user):
    parent_id = start_group(user, 120)
    chunk = chunks_of(parent_id)[0]
    response = admin_client.post("/admin/jobs/taskinfo/", {"action": "cancel_tasks", "_selected_action": [chunk.pk]},
                                 follow=True)
    assert "Chunks of a group left alone (cancel their group): 1." in response.content.decode()
    assert row(chunk.pk).status == Status.PENDING


def test_a_stalled_worker_that_wakes_after_its_chunk_was_queued_again_writes_nothing(user):
    parent_id = start_group(user, 120)
    chunk = chunks_of(parent_id)[0]
    assert lifecycle.start_task(chunk.pk)
    late = ProgressReporter(str(chunk.pk), chunk.total_items, interval=0, attempt=1)
    late.update(10)
    _lose_worker_of(chunk.pk)  # its worker stalls (paused, swapping) past STALE_AFTER
    assert reap_stale_tasks(stale_after=60) == 1 and row(chunk.pk).attempt == 2
    with pytest.raises(JobCancelled):
        late.update(11)  # it wakes: the row is not its run any more, so it stops
    assert lifecycle.end_task(chunk.pk, Status.CANCELLED, processed_items=11, attempt=1) is None
    assert row(chunk.pk).status == Status.PENDING  # the second run is still to come
    assert lifecycle.start_task(chunk.pk)
    assert lifecycle.touch_running_task(chunk.pk, attempt=1, processed_items=3) is None
    assert lifecycle.touch_running_task(chunk.pk, attempt=2, processed_items=3).processed_items == 3
    assert lifecycle.end_task(chunk.pk, Status.COMPLETED, attempt=1) is None
    assert row(chunk.pk).status == Status.RUNNING and row(parent_id).processed_items == 0


def broken_merge(chunks):
    raise KeyError("analyzed")


def test_a_kinds_broken_merge_does_not_keep_its_group_from_ending(user, caplog):
    registry._registered.pop(KIND)
    registry.register(registry.TaskKind(KIND, f"{__name__}.item_job", timeout=60, chunk_param="items",
                                        merge_path=f"{__name__}.broken_merge"))
    parent_id = start_group(user, 60)
    for chunk in chunks_of(parent_id):
        assert run_task(str(chunk.pk)) == Status.COMPLETED
    parent = row(parent_id)
    assert parent.status == Status.COMPLETED and parent.result["ok"] == 60  # by the default merge
    assert "merged by the default" in caplog.text


def slow_item_job(progress_callback, items: list, delay: float = 0.05):
    """Count items slowly, keeping what was counted when stopped."""
    reported = 0
    try:
        for done, item in enumerate(items, start=1):
            time.sleep(delay)
            reported = done  # the callback records it before it may raise
            progress_callback(done, current=item)
    except BaseException as stopped:
        stopped.partial_result = {"ok": reported, "failed": 0, "errors": []}
        raise
    return {"ok": len(items), "failed": 0, "errors": []}


def test_a_chunk_stopped_with_its_worker_runs_again_then_counts_as_failed_after_its_last_attempt(user, monkeypatch):
    from jobs.stopping import WorkerStopped

    monkeypatch.setattr("jobs.worker.STOP_GRACE", 0.3)
    registry._registered.pop(KIND)
    registry.register(registry.TaskKind(KIND, f"{__name__}.slow_item_job", timeout=60, chunk_param="items"))
    parent_id = start_group(user, 60)
    first, second = chunks_of(parent_id)

    def stopped_mid_run(chunk) -> None:
        threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGTERM)).start()
        with pytest.raises(WorkerStopped):  # the worker process ends; its chunk is not lost
            run_task(str(chunk.pk))

    queued = OrmQ.objects.count()
    stopped_mid_run(first)  # a deploy's SIGTERM, say
    again = row(first.pk)
    assert (again.status, again.attempt, again.processed_items) == (Status.PENDING, 2, 0)
    assert again.error == "Running again after: Worker stopped by signal" and OrmQ.objects.count() == queued + 1
    assert row(parent_id).processed_items == 0
    stopped_mid_run(first)  # its second and last run is stopped too
    assert row(first.pk).status == Status.FAILED
    assert run_task(str(second.pk)) == Status.COMPLETED
    parent = row(parent_id)
    assert parent.status == Status.COMPLETED and parent.result["ok"] + parent.result["failed"] == 60
    assert parent.result["failed"] == 50 - row(first.pk).result["ok"] == 50 - row(first.pk).processed_items
    assert {entry["error"] for entry in parent.result["errors"]} == {"Worker stopped by signal"}
    assert Notification.objects.count() == 1
