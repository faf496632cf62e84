"""After a channel-layer outage every socket re-sends what it follows; the publisher catches up on user events."""

import asyncio
import json
import time
from types import SimpleNamespace

import pytest
from channels.layers import get_channel_layer
from channels_redis import pubsub
from django.db.models import F

from jobs.models import TaskInfo
from notifications.models import Notification
from realtime import layer_watch, publisher
from realtime.consumers.guarded import GuardedJsonConsumer
from realtime.groups import auth_group

from .conftest import amake, nothing_more, open_socket, receive
from .layers import RecordingLayer

pytestmark = pytest.mark.django_db(transaction=True)


async def layer_event(user, kind: str) -> None:
    """Deliver a layer.* event to every socket of user, as layer_watch does to every local socket."""
    await get_channel_layer().group_send(auth_group(user.pk), {"type": kind})


async def drain(communicator) -> list[dict]:
    """Return every message the socket has sent until it falls quiet."""
    messages = []
    while not await communicator.receive_nothing(timeout=0.2):
        messages.append(json.loads(await communicator.receive_from()))
    return messages


def write_behind_the_push_path(job_id, **fields):
    """Change the row as a worker would, announcing nothing: a push lost while Redis was down."""
    TaskInfo.objects.filter(pk=job_id).update(seq=F("seq") + 1, **fields)


async def test_job_sockets_resend_their_snapshots_when_the_layer_is_back(make_job, user, token_of):
    token = await amake(token_of)(user)
    job_id, other_id = await amake(make_job)(topic="news"), await amake(make_job)()
    sockets = {}
    for path in (f"/ws/bulk-process/{job_id}", "/ws/progress/news", "/ws/tasks/"):
        communicator, connected, _ = await open_socket(path, token=token)
        assert connected
        await drain(communicator)  # connection_established and the snapshots
        sockets[path] = communicator
    await layer_event(user, "layer.disconnected")  # the socket stays open and quiet
    for communicator in sockets.values():
        assert await nothing_more(communicator)
    await amake(write_behind_the_push_path)(job_id, processed_items=5)
    await layer_event(user, "layer.reconnected")
    for path, communicator in sockets.items():
        update = await receive(communicator)
        assert (update["job_id"], update["task"]["processed_items"]) == (job_id, 5), path
        if path == "/ws/tasks/":  # the unchanged job is not sent again: its seq is not newer
            assert await nothing_more(communicator)
        await communicator.disconnect()
    assert other_id


async def test_a_subscribed_job_is_resent_and_an_unsubscribed_one_stays_silent(make_job, user, token_of):
    token = await amake(token_of)(user)
    job_id, extra, muted = await amake(make_job)(), await amake(make_job)(), await amake(make_job)(topic="t")
    communicator, _, _ = await open_socket("/ws/progress/t", token=token)
    await receive(communicator), await receive(communicator)
    await communicator.send_json_to({"type": "subscribe_job", "job_id": extra})
    await receive(communicator), await receive(communicator)
    await communicator.send_json_to({"type": "unsubscribe_job", "job_id": muted})
    await receive(communicator)
    for job in (extra, muted):
        await amake(write_behind_the_push_path)(job, processed_items=2)
    await layer_event(user, "layer.reconnected")
    assert (await receive(communicator))["job_id"] == extra
    assert await nothing_more(communicator)
    await communicator.disconnect()
    assert job_id


async def test_the_badge_socket_counts_again_when_the_layer_is_back(user, token_of):
    communicator, connected, _ = await open_socket("/ws/notifications/", token=await amake(token_of)(user))
    assert connected and (await receive(communicator))["count"] == 0
    # Created while Redis was down: its message never came.
    await amake(Notification.objects.create)(user=user, type="system", title="missed", message="x")
    await layer_event(user, "layer.reconnected")
    assert await receive(communicator) == {"type": "unread_count", "count": 1}
    await communicator.disconnect()


class PlainConsumer(GuardedJsonConsumer):
    """A socket that cannot re-read its state: the default is to close 1012 so the client reconnects."""

    async def connect(self):
        await self.authenticate()
        await self.accept()
        self.ready = True


async def test_a_socket_without_a_resync_closes_1012_when_the_layer_is_back(user):
    from channels.testing import WebsocketCommunicator

    communicator = WebsocketCommunicator(PlainConsumer.as_asgi(), "/ws/plain/")
    communicator.scope["user"] = user
    assert (await communicator.connect())[0]
    await layer_event(user, "layer.reconnected")
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1012}
    await communicator.wait()


# --- the layer's watcher -----------------------------------------------------------------------

class FlakyPubSub:
    """A redis-py PubSub whose connection drops once, then comes back and re-subscribes."""

    subscribed = True

    def __init__(self, script):
        self.script = list(script)

    async def get_message(self, ignore_subscribe_messages, timeout):
        assert ignore_subscribe_messages is False  # the confirmations are the reconnect signal
        await asyncio.sleep(0)
        if not self.script:
            await asyncio.sleep(timeout)
            return None
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


async def test_the_watched_shard_tells_local_consumers_when_redis_goes_and_comes_back(monkeypatch):
    layer_watch.watch_layer_connections()
    serializer = SimpleNamespace(serialize=lambda message: json.dumps(message).encode())
    queue: asyncio.Queue = asyncio.Queue()
    loop_layer = SimpleNamespace(channels={"specific.abc": queue}, groups={"g": {"specific.abc"}},
                                 channel_layer=serializer)
    shard = pubsub.RedisSingleShardConnection({"address": "redis://unused"}, loop_layer)
    shard._pubsub = FlakyPubSub([
        ConnectionError("Connection closed by server."),
        ConnectionError("Connection refused."),  # still down: told once, not again
        {"type": "subscribe", "channel": b"g", "data": 1},
        {"type": "subscribe", "channel": b"h", "data": 2},  # the same re-SUBSCRIBE: not a second event
        {"type": "message", "channel": b"g", "data": b'{"type": "hello"}'},
    ])
    monkeypatch.setattr(layer_watch.asyncio, "sleep", _fast_sleep)
    task = asyncio.ensure_future(shard._do_receiving())
    try:
        received = [json.loads(await asyncio.wait_for(queue.get(), 2)) for _ in range(3)]
    finally:
        task.cancel()
    assert received == [{"type": "layer.disconnected"}, {"type": "layer.reconnected"}, {"type": "hello"}]


def test_the_asgi_application_installs_the_watch():
    import statusmsg.asgi  # noqa: F401 - what daphne imports

    assert pubsub.RedisSingleShardConnection._do_receiving is layer_watch._do_receiving


_real_sleep = asyncio.sleep


async def _fast_sleep(delay):
    await _real_sleep(min(delay, 0.01))


# --- the publisher's catch-up of user events --------------------------------------------------

@pytest.fixture
def layer_down_then_up(settings):
    """Make pushes fail (Redis down, short backoff); return a function that brings them back."""
    RecordingLayer.sent = []
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.FailingLayer"}}
    settings.STATUSMSG = {**settings.STATUSMSG, "PUSH_TIMEOUT": 0.3, "PUSH_BACKOFF": 0.3}

    def back_up():
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.RecordingLayer"}}
        RecordingLayer.sent.clear()
        return RecordingLayer.sent

    return back_up


def wait_for_sends(sent: list, count: int, timeout: float = 3) -> list:
    deadline = time.monotonic() + timeout
    while len(sent) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # and nothing more
    return list(sent)


def test_missed_user_events_are_sent_again_in_order_once_pushes_work(layer_down_then_up):
    created = {"type": "notification.created", "notification": {"id": 1}}
    changed = {"type": "notifications.changed"}
    assert publisher.publish_to_user(7, changed) is False  # fails: Redis is down
    assert publisher.publish_to_user(7, created) is False  # skipped: paused
    assert publisher.publish_to_user(7, changed) is False  # supersedes the first copy
    assert publisher.publish_to_all_users(created) is False
    sent = layer_down_then_up()
    assert wait_for_sends(sent, 3) == [("user.7", created), ("user.7", changed), ("users.all", created)]


def test_a_missed_event_sent_again_later_is_not_caught_up_twice(layer_down_then_up):
    changed = {"type": "notifications.changed"}
    assert publisher.publish_to_user(7, changed) is False
    sent = layer_down_then_up()
    publisher._paused_until = 0.0  # the pause ends before the catch-up runs
    assert publisher.publish_to_user(7, changed) is True  # delivered: the queued copy is superseded
    assert wait_for_sends(sent, 2, timeout=0.6) == [("user.7", changed)]


def test_a_catch_up_that_fails_again_keeps_the_events_until_pushes_work(layer_down_then_up, settings):
    revoked = {"type": "auth.revoked", "kind": "session", "key": None}
    assert publisher.publish_auth_event(7, revoked) is False
    time.sleep(0.5)  # the first catch-up meets Redis still down, and keeps the event
    sent = layer_down_then_up()
    assert wait_for_sends(sent, 1, timeout=3) == [("auth.user.7", revoked)]


async def test_a_resync_that_fails_closes_1012_so_the_client_reconnects(user, token_of, monkeypatch):
    from realtime import db

    communicator, connected, _ = await open_socket("/ws/tasks/", token=await amake(token_of)(user))
    assert connected
    await drain(communicator)

    async def database_down(*args):
        raise ConnectionError("the database is down too")

    monkeypatch.setattr(db, "feed_task_messages", database_down)
    await layer_event(user, "layer.reconnected")
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1012}
    await communicator.wait()
