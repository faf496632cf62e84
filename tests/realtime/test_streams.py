"""What the job sockets send: snapshot on connect, live updates in seq order, client requests."""

import json

import pytest
from channels.layers import get_channel_layer
from django.db.models import F

from jobs import announce, lifecycle
from jobs.models import Status, TaskInfo
from jobs.reporting import ProgressReporter
from jobs.serializers import task_snapshot
from realtime import db
from realtime.groups import job_group

from .conftest import amake, nothing_more, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot_of(job_id) -> dict:
    return json.loads(json.dumps(task_snapshot(TaskInfo.objects.get(pk=job_id))))


async def job_socket(job_id, key):
    communicator, connected, code = await open_socket(f"/ws/bulk-process/{job_id}", token=key)
    assert connected, code
    return communicator


async def test_connect_sends_established_then_the_current_snapshot(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator = await job_socket(job_id, await amake(token_of)(user))
    established = await receive(communicator)
    assert established["type"] == "connection_established" and established["status"] == "connected"
    assert established["job_id"] == job_id and established["timestamp"]
    snapshot = await receive(communicator)
    assert snapshot["type"] == "job_update" and snapshot["status"] == "pending"
    assert snapshot["task"] == await amake(snapshot_of)(job_id)
    assert snapshot["seq"] == snapshot["task"]["seq"]
    await communicator.disconnect()


async def test_a_socket_opened_after_the_job_finished_sees_the_final_state(make_job, user, token_of):
    job_id = await amake(make_job)()
    await amake(lifecycle.start_task)(job_id)
    await amake(lifecycle.finish_task)(job_id, Status.COMPLETED, result={"saved": 10})
    communicator = await job_socket(job_id, await amake(token_of)(user))
    await receive(communicator)
    final = await receive(communicator)
    assert final["status"] == "completed" and final["results"] == {"saved": 10}
    assert final["task"] == await amake(snapshot_of)(job_id)
    await communicator.disconnect()


async def test_progress_reaches_the_socket_with_increasing_seq_until_completed(make_job, user, token_of):
    job_id = await amake(make_job)(total_items=3)
    communicator = await job_socket(job_id, await amake(token_of)(user))
    await receive(communicator), await receive(communicator)
    await amake(lifecycle.start_task)(job_id)
    reporter = ProgressReporter(job_id, 3, interval=0)
    for processed in (1, 2, 3):
        await amake(reporter)(processed, current=f"item {processed}")
    await amake(reporter.report_batch)(1, 1, saved=3)
    await amake(lifecycle.finish_task)(job_id, Status.COMPLETED, result={"saved": 3})
    messages = []
    while not messages or messages[-1]["status"] != "completed":
        messages.append(await receive(communicator))
    seqs = [message["seq"] for message in messages]
    assert seqs == sorted(set(seqs))
    assert [m["status"] for m in messages] == ["progress"] * 4 + ["batch_update", "completed"]
    assert messages[3]["processed"] == 3 and messages[3]["task"]["current_item"] == "item 3"
    assert messages[4]["batch_completed"] == 1 and messages[4]["total_batches"] == 1
    assert messages[-1]["task"] == await amake(snapshot_of)(job_id)
    await communicator.disconnect()


async def test_a_stale_or_repeated_seq_is_never_sent(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator = await job_socket(job_id, await amake(token_of)(user))
    await receive(communicator)
    snapshot = await receive(communicator)
    layer = get_channel_layer()

    def event(seq):
        return {"type": "task.updated", "job_id": job_id, "seq": seq, "owner_id": user.pk,
                "text": json.dumps({"type": "task.updated", "job_id": job_id, "seq": seq})}

    # As if published before the snapshot was read but delivered after it.
    for seq in (snapshot["seq"] - 1, snapshot["seq"]):
        await layer.group_send(job_group(job_id), event(seq))
    assert await nothing_more(communicator)
    await layer.group_send(job_group(job_id), event(snapshot["seq"] + 5))
    assert (await receive(communicator))["seq"] == snapshot["seq"] + 5
    await layer.group_send(job_group(job_id), event(snapshot["seq"] + 3))
    assert await nothing_more(communicator)
    await communicator.disconnect()


async def test_ping_is_answered_with_pong(make_job, user, token_of):
    communicator = await job_socket(await amake(make_job)(), await amake(token_of)(user))
    await receive(communicator), await receive(communicator)
    await communicator.send_json_to({"type": "ping"})
    pong = await receive(communicator)
    assert pong["type"] == "pong" and pong["timestamp"]
    await communicator.disconnect()


async def test_get_status_answers_from_the_last_message_sent_without_a_query(make_job, user, token_of,
                                                                              monkeypatch):
    job_id = await amake(make_job)()
    communicator = await job_socket(job_id, await amake(token_of)(user))
    await receive(communicator)
    snapshot = await receive(communicator)
    await amake(lambda: TaskInfo.objects.filter(pk=job_id).update(processed_items=4, seq=F("seq") + 1))()
    await amake(announce.announce)(job_id)
    relayed = await receive(communicator)

    async def no_query(*args):
        raise AssertionError("get_status read the database")

    monkeypatch.setattr(db, "visible_task_message", no_query)
    for _ in range(3):  # a client asking again and again costs no query
        await communicator.send_json_to({"type": "get_status"})
        answer = await receive(communicator)
        assert answer == {"type": "status_request", "job_id": job_id, "status": "pending", "seq": relayed["seq"],
                          "task": relayed["task"]}
    assert relayed["seq"] == snapshot["seq"] + 1 and relayed["task"]["processed_items"] == 4
    await communicator.disconnect()


async def test_get_status_of_another_visible_job_and_of_someone_elses(make_job, user, other_user, token_of):
    mine, theirs = await amake(make_job)(), await amake(make_job)(owner=other_user)
    communicator = await job_socket(mine, await amake(token_of)(user))
    await receive(communicator), await receive(communicator)
    second = await amake(make_job)()
    await communicator.send_json_to({"type": "get_status", "job_id": second})
    assert (await receive(communicator))["task"]["id"] == second
    await communicator.send_json_to({"type": "get_status", "job_id": theirs})
    assert await receive(communicator) == {"type": "error", "error": f"No such job: {theirs}", "job_id": theirs}
    await communicator.disconnect()


async def test_topic_socket_relays_later_jobs_of_the_topic_the_user_may_see(make_job, user, other_user, token_of):
    earlier = await amake(make_job)(topic="news")
    await amake(make_job)(topic="sport")
    communicator, connected, _ = await open_socket("/ws/progress/news", token=await amake(token_of)(user))
    assert connected
    established = await receive(communicator)
    assert established["type"] == "connection_established" and established["topic_id"] == "news"
    assert (await receive(communicator))["job_id"] == earlier
    await amake(make_job)(topic="news", owner=other_user)  # not theirs: never relayed
    later = await amake(make_job)(topic="news")
    update = await receive(communicator)
    assert update["job_id"] == later and update["status"] == "pending"
    assert await nothing_more(communicator)
    await communicator.disconnect()


async def test_staff_topic_socket_relays_everyones_jobs(make_job, other_user, staff_user, token_of):
    communicator, _, _ = await open_socket("/ws/progress/news", token=await amake(token_of)(staff_user))
    await receive(communicator)
    job_id = await amake(make_job)(topic="news", owner=other_user)
    assert (await receive(communicator))["job_id"] == job_id
    await communicator.disconnect()


async def test_subscribe_and_unsubscribe_a_job(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator, _, _ = await open_socket("/ws/progress/other", token=await amake(token_of)(user))
    await receive(communicator)
    await communicator.send_json_to({"type": "subscribe_job", "job_id": job_id})
    assert await receive(communicator) == {"type": "subscribed", "job_id": job_id}
    snapshot = await receive(communicator)
    assert snapshot["type"] == "job_update" and snapshot["job_id"] == job_id
    await amake(lifecycle.start_task)(job_id)
    assert (await receive(communicator))["status"] == "progress"
    await communicator.send_json_to({"type": "unsubscribe_job", "job_id": job_id})
    assert await receive(communicator) == {"type": "unsubscribed", "job_id": job_id}
    await amake(lifecycle.finish_task)(job_id, Status.COMPLETED, result={})
    assert await nothing_more(communicator)
    await communicator.disconnect()


async def test_subscribing_to_someone_elses_job_is_an_error(make_job, user, other_user, token_of):
    theirs = await amake(make_job)(owner=other_user)
    communicator, _, _ = await open_socket("/ws/progress/t", token=await amake(token_of)(user))
    await receive(communicator)
    await communicator.send_json_to({"type": "subscribe_job", "job_id": theirs})
    assert (await receive(communicator))["type"] == "error"
    await amake(lifecycle.start_task)(theirs)
    assert await nothing_more(communicator)
    await communicator.disconnect()


async def test_task_feed_relays_the_users_own_jobs_including_new_ones(make_job, user, other_user, token_of):
    existing = await amake(make_job)()
    communicator, connected, _ = await open_socket("/ws/tasks/", token=await amake(token_of)(user))
    assert connected
    assert (await receive(communicator))["type"] == "connection_established"
    assert (await receive(communicator))["job_id"] == existing
    await amake(make_job)(owner=other_user)
    new = await amake(make_job)()
    assert (await receive(communicator))["job_id"] == new
    await amake(lifecycle.start_task)(new)
    update = await receive(communicator)
    assert (update["job_id"], update["status"]) == (new, "progress")
    assert await nothing_more(communicator)
    await communicator.disconnect()


async def test_staff_task_feed_relays_every_job(make_job, other_user, staff_user, token_of):
    communicator, _, _ = await open_socket("/ws/tasks", token=await amake(token_of)(staff_user))
    await receive(communicator)
    job_id = await amake(make_job)(owner=other_user)
    assert (await receive(communicator))["job_id"] == job_id
    await communicator.disconnect()
