"""One subscription per group per process, fanned out to the sockets that follow it, each in its own order."""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from django.db.models import F

from jobs.models import TaskInfo
from realtime import db, fanout, layer_watch
from realtime.groups import auth_group, job_group

from .conftest import amake, handshake_refusal, nothing_more, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


def members(group: str) -> list[str]:
    """Return the channels of the in-memory layer subscribed to group."""
    return list(get_channel_layer().groups.get(group, {}))


def job_event(job_id: str, owner_id, seq: int) -> dict:
    text = json.dumps({"type": "job_update", "job_id": job_id, "seq": seq})
    return {"type": "task.updated", "job_id": job_id, "seq": seq, "owner_id": owner_id, "text": text}


async def job_socket(job_id: str, token: str):
    communicator, connected, code = await open_socket(f"/ws/bulk-process/{job_id}", token=token)
    assert connected, code
    await receive(communicator)  # connection_established
    return communicator, await receive(communicator)  # and the snapshot


async def test_sockets_of_one_job_share_one_subscription_until_the_last_leaves(make_job, user, token_of):
    job_id, token = await amake(make_job)(), await amake(token_of)(user)
    sockets = [await job_socket(job_id, token) for _ in range(3)]
    assert len(members(job_group(job_id))) == 1 and len(members(auth_group(user.pk))) == 1
    leaving, _ = sockets.pop()
    await leaving.disconnect()
    assert len(members(job_group(job_id))) == 1  # the others still follow it
    seq = sockets[0][1]["seq"] + 1
    await get_channel_layer().group_send(job_group(job_id), job_event(job_id, user.pk, seq))
    for communicator, _ in sockets:
        assert (await receive(communicator))["seq"] == seq
        assert await nothing_more(communicator)  # once each
        await communicator.disconnect()
    assert members(job_group(job_id)) == [] and members(auth_group(user.pk)) == []


async def test_an_update_published_while_a_request_is_handled_is_sent_after_its_answer(make_job, user, token_of,
                                                                                      monkeypatch):
    job_id = await amake(make_job)()
    seq = await amake(lambda: TaskInfo.objects.get(pk=job_id).seq)()
    communicator, connected, _ = await open_socket("/ws/progress/elsewhere", token=await amake(token_of)(user))
    assert connected and (await receive(communicator))["type"] == "connection_established"
    reading, release = asyncio.Event(), asyncio.Event()
    read = db.visible_task_message

    async def slow_read(*args):
        message = await read(*args)
        reading.set()
        await release.wait()
        return message

    monkeypatch.setattr(db, "visible_task_message", slow_read)
    await communicator.send_json_to({"type": "subscribe_job", "job_id": job_id})
    await asyncio.wait_for(reading.wait(), 2)  # joined, and reading the snapshot
    await get_channel_layer().group_send(job_group(job_id), job_event(job_id, user.pk, seq + 1))
    await asyncio.sleep(0.1)  # delivered to the busy socket meanwhile
    release.set()
    assert await receive(communicator) == {"type": "subscribed", "job_id": job_id}
    assert [(await receive(communicator))["seq"] for _ in range(2)] == [seq, seq + 1]  # the snapshot, then the update
    await communicator.disconnect()


async def test_while_the_layer_has_lost_redis_a_handshake_is_refused_1013_and_open_sockets_resync_after(
        make_job, user, token_of):
    job_id, token = await amake(make_job)(), await amake(token_of)(user)
    communicator, snapshot = await job_socket(job_id, token)
    process_fanout = fanout.running()
    process_fanout.layer_status_changed(layer_watch.DISCONNECTED)
    assert await nothing_more(communicator)  # the socket stays open and quiet
    assert await handshake_refusal("/ws/notifications/", token=token) == 1013  # could follow nothing
    await amake(lambda: TaskInfo.objects.filter(pk=job_id).update(processed_items=4, seq=F("seq") + 1))()
    process_fanout.layer_status_changed(layer_watch.RECONNECTED)
    update = await receive(communicator)
    assert (update["seq"], update["task"]["processed_items"]) == (snapshot["seq"] + 1, 4)  # missed meanwhile: re-read
    badge, connected, _ = await open_socket("/ws/notifications/", token=token)
    assert connected and (await receive(badge))["type"] == "unread_count"
    for socket in (communicator, badge):
        await socket.disconnect()


class SlowToSubscribe:
    """The test's layer, with a group_add that waits to be released (a Redis slow to take the SUBSCRIBE)."""

    def __init__(self, layer):
        self.layer = layer
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self.layer, name)

    async def group_add(self, group, channel):
        await self.release.wait()
        await self.layer.group_add(group, channel)


async def test_a_group_whose_only_follower_gives_up_while_it_is_subscribed_is_unsubscribed_after():
    layer = SlowToSubscribe(get_channel_layer())
    process_fanout = fanout.Fanout(layer)
    following = asyncio.ensure_future(process_fanout.follow("slow.group", object()))
    await asyncio.sleep(0.05)
    following.cancel()  # the socket went away during its handshake
    with pytest.raises(asyncio.CancelledError):
        await following
    layer.release.set()
    await asyncio.sleep(0.2)
    assert members("slow.group") == []
    assert process_fanout.subscriptions == {} and process_fanout.channels == set()
