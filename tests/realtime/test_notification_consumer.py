"""The live badge socket: count on connect, new notifications, changes from other tabs."""

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from notifications import queries, services
from notifications.models import Notification, NotificationReceipt
from notifications.serializers import notification_snapshot
from realtime import db, guard, publisher
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


@pytest.fixture
def query_log(monkeypatch):
    """Record the SQL every thread runs while `recording` (database_sync_to_async uses threads)."""
    log = SimpleNamespace(statements=[], recording=False, lock=threading.Lock())
    original = CursorWrapper._execute

    def execute_and_log(self, sql, params, *ignored):
        if log.recording:
            with log.lock:
                log.statements.append(sql)
        return original(self, sql, params, *ignored)

    monkeypatch.setattr(CursorWrapper, "_execute", execute_and_log)
    return log


async def test_system_wide_notice_reaches_every_socket_without_a_query_per_socket(
    user, other_user, newcomer, django_user_model, query_log
):
    dave = await sync_to_async(django_user_model.objects.create_user)("dave", password="dave-password")
    mine = await create(user, "system", "alice only", "x")
    await create(other_user, "system", "bob only", "x")
    read_notice = await create(None, "system", "old notice", "x")
    await sync_to_async(services.mark_notification_as_read)(mine, user)
    await sync_to_async(services.mark_notification_as_read)(read_notice, other_user)
    await sync_to_async(services.delete_notification)(read_notice, dave)
    people = [user, other_user, newcomer, dave, user]  # alice has two tabs
    sockets = [await connected(person) for person in people]

    query_log.recording = True
    notice_id = await create(None, "system", "maintenance", "tonight")
    messages = [await socket.receive_json_from() for socket in sockets]
    query_log.recording = False

    # Creating the notice inserts one row; any per-user count reads the receipts table.
    assert query_log.statements and not [
        sql for sql in query_log.statements if NotificationReceipt._meta.db_table in sql
    ], query_log.statements
    for person, message in zip(people, messages, strict=True):
        assert message["type"] == "notification" and message["notification"]["id"] == notice_id
        assert message["unread_count"] == await sync_to_async(queries.get_unread_count)(person)
    assert [message["unread_count"] for message in messages] == [2, 2, 2, 1, 2]
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.parametrize("notice_commits", ["before the count is read", "after the count is read"])
async def test_a_notice_committed_while_a_socket_connects_is_counted_once(notice_commits, user, monkeypatch):
    """Join, then read: the notice is in the count or comes as a message, and counted once."""
    await create(user, "system", "alice only", "x")
    read_count = db.read_unread_count

    async def notice_around_the_read(account):
        if notice_commits == "before the count is read":
            await create(None, "system", "maintenance", "x")
            return await read_count(account)
        count = await read_count(account)
        await create(None, "system", "maintenance", "x")
        return count

    monkeypatch.setattr(db, "read_unread_count", notice_around_the_read)
    communicator = await connect(user)
    on_connect = await communicator.receive_json_from()
    assert on_connect["count"] == (2 if notice_commits == "before the count is read" else 1)
    message = await communicator.receive_json_from()
    assert message["type"] == "notification" and message["unread_count"] == 2
    monkeypatch.setattr(db, "read_unread_count", read_count)
    await create(None, "system", "later", "x")
    assert (await communicator.receive_json_from())["unread_count"] == 3
    assert await sync_to_async(queries.get_unread_count)(user) == 3
    await communicator.disconnect()


async def test_a_late_message_about_an_old_notice_is_not_counted_twice(user):
    """A notice created long before its message arrives may be in the count already: read it again."""
    old = await sync_to_async(Notification.objects.create)(
        user=None, type="system", title="slow", created_at=timezone.now() - timedelta(days=1)
    )
    communicator = await connect(user)
    assert (await communicator.receive_json_from())["count"] == 1
    await sync_to_async(publisher.publish_to_all_users)(
        {"type": services.NOTIFICATION_CREATED, "notification": notification_snapshot(old)}
    )
    message = await communicator.receive_json_from()
    assert message["notification"]["id"] == old.pk and message["unread_count"] == 1
    await communicator.disconnect()
