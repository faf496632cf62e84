"""The live badge socket: count on connect, new notifications, changes from other tabs."""

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connections

from notifications import services
from realtime import guard
from realtime.routing import websocket_urlpatterns

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PATH = "/ws/notifications/"


async def connect(user):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), PATH)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


create = sync_to_async(services.create_notification)


@pytest.fixture(autouse=True)
def no_persistent_connections():
    """Let database_sync_to_async close its thread's connection after each call.

    With CONN_MAX_AGE (PostgreSQL runs) that thread would keep a session open past the
    test, and the test database could not be dropped at the end.
    """
    config = connections.settings["default"]
    saved = config["CONN_MAX_AGE"]
    config["CONN_MAX_AGE"] = 0
    yield
    config["CONN_MAX_AGE"] = saved


async def test_anonymous_is_refused(db):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), PATH)
    communicator.scope["user"] = AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected  # accepted only to be closed at once, with the reason and no data
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()


async def test_no_session_through_the_auth_stack_is_refused(db):
    communicator = WebsocketCommunicator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), PATH)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()


async def test_connect_sends_the_current_unread_count(user):
    await create(user, "system", "one", "x")
    await create(None, "system", "everyone", "x")
    communicator = await connect(user)
    assert await communicator.receive_json_from() == {"type": "unread_count", "count": 2}
    await communicator.disconnect()


async def test_new_notification_for_the_user_arrives_with_the_count(user, other_user):
    communicator = await connect(user)
    assert (await communicator.receive_json_from())["count"] == 0
    notification_id = await create(user, "task_complete", "Done", "saved: 3", "/tasks/1/")
    message = await communicator.receive_json_from()
    assert message["type"] == "notification"
    assert message["unread_count"] == 1
    assert message["notification"]["id"] == notification_id
    assert message["notification"]["title"] == "Done" and message["notification"]["read"] is False
    # Someone else's notification is never relayed to this socket.
    await create(other_user, "system", "not yours", "x")
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_system_wide_notice_carries_each_users_own_count(user, other_user):
    await create(user, "system", "alice only", "x")
    alice = await connect(user)
    bob = await connect(other_user)
    assert (await alice.receive_json_from())["count"] == 1
    assert (await bob.receive_json_from())["count"] == 0
    await create(None, "system", "maintenance", "tonight")
    to_alice = await alice.receive_json_from()
    to_bob = await bob.receive_json_from()
    assert to_alice["notification"]["title"] == to_bob["notification"]["title"] == "maintenance"
    assert to_alice["unread_count"] == 2
    assert to_bob["unread_count"] == 1
    await alice.disconnect()
    await bob.disconnect()


async def test_mark_read_and_delete_in_one_tab_update_every_tab(user):
    first = await create(user, "system", "one", "x")
    second = await create(user, "system", "two", "x")
    tab_a = await connect(user)
    tab_b = await connect(user)
    for tab in (tab_a, tab_b):
        assert (await tab.receive_json_from())["count"] == 2
    await sync_to_async(services.mark_notification_as_read)(first, user)
    for tab in (tab_a, tab_b):
        assert await tab.receive_json_from() == {"type": "unread_count", "count": 1}
    await sync_to_async(services.delete_notification)(second, user)
    for tab in (tab_a, tab_b):
        assert await tab.receive_json_from() == {"type": "unread_count", "count": 0}
    await create(None, "system", "notice", "x")
    for tab in (tab_a, tab_b):
        assert (await tab.receive_json_from())["unread_count"] == 1
    await sync_to_async(services.mark_all_notifications_as_read)(user)
    for tab in (tab_a, tab_b):
        assert await tab.receive_json_from() == {"type": "unread_count", "count": 0}
    await tab_a.disconnect()
    await tab_b.disconnect()


async def test_other_users_changes_are_not_sent(user, other_user):
    theirs = await create(other_user, "system", "theirs", "x")
    communicator = await connect(user)
    await communicator.receive_json_from()
    await sync_to_async(services.mark_notification_as_read)(theirs, other_user)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_staff_deleting_a_system_notice_updates_every_users_badge(user, other_user):
    notice = await create(None, "system", "notice", "x")
    alice = await connect(user)
    bob = await connect(other_user)
    for tab in (alice, bob):
        assert (await tab.receive_json_from())["count"] == 1
    await sync_to_async(services.delete_by_staff)([notice])
    for tab in (alice, bob):
        assert await tab.receive_json_from() == {"type": "unread_count", "count": 0}
    await alice.disconnect()
    await bob.disconnect()


async def test_staff_marking_a_users_notification_updates_that_users_badge(user):
    mine = await create(user, "system", "one", "x")
    tab = await connect(user)
    assert (await tab.receive_json_from())["count"] == 1
    await sync_to_async(services.set_read_by_staff)([mine], True)
    assert await tab.receive_json_from() == {"type": "unread_count", "count": 0}
    await sync_to_async(services.set_read_by_staff)([mine], False)
    assert await tab.receive_json_from() == {"type": "unread_count", "count": 1}
    await tab.disconnect()


async def connected(user):
    """Connect and read the count sent on connect."""
    communicator = await connect(user)
    assert (await communicator.receive_json_from())["type"] == "unread_count"
    return communicator


@pytest.mark.parametrize(
    ("frame", "complaint"),
    [
        ("{not json", "Malformed JSON"),
        ("[1, 2]", "Expected a JSON object"),
        ('"ping"', "Expected a JSON object"),
        ('{"no": "type"}', "Unknown message type None"),
        ('{"type": "subscribe_job", "job_id": "x"}', "Unknown message type 'subscribe_job'"),
    ],
)
async def test_bad_message_gets_an_error_and_the_socket_stays_open(frame, complaint, user):
    communicator = await connected(user)
    await communicator.send_to(text_data=frame)
    answer = await communicator.receive_json_from()
    assert answer["type"] == "error" and complaint in answer["error"]
    await communicator.send_json_to({"type": "ping"})
    pong = await communicator.receive_json_from()
    assert pong["type"] == "pong" and "T" in pong["timestamp"]
    # Still relaying: a new notification arrives on the same socket.
    await create(user, "system", "after the error", "x")
    assert (await communicator.receive_json_from())["unread_count"] == 1
    await communicator.disconnect()


async def test_binary_frame_gets_an_error(user):
    communicator = await connected(user)
    await communicator.send_to(bytes_data=b'{"type": "ping"}')
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.disconnect()


@pytest.mark.parametrize("frame", [{"text_data": "x" * (guard.MAX_FRAME_BYTES + 1)},
                                   {"bytes_data": b"x" * (guard.MAX_FRAME_BYTES + 1)}])
async def test_a_frame_over_64_kib_closes_the_socket_with_1009(frame, user):
    communicator = await connected(user)
    await communicator.send_to(**frame)
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}
    await communicator.wait()


async def test_a_flooding_client_is_closed_with_1008(user):
    communicator = await connected(user)
    for _ in range(200):
        await communicator.send_json_to({"type": "ping"})
    outputs = []
    while True:
        output = await communicator.receive_output(timeout=2)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert outputs[-1] == {"type": "websocket.close", "code": 1008}
    assert len(outputs) - 1 == guard.BURST  # the burst was answered, the rest refused
    await communicator.wait()
