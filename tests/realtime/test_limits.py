"""Limits that hold: sockets per user, messages per user, JSON depth, unknown paths, Origin, and no leaked groups."""

import logging

import pytest
from channels.layers import get_channel_layer

from realtime import guard, socket_slots
from realtime.groups import auth_group, job_group

from .conftest import amake, handshake_refusal, nothing_more, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def statusmsg_options(settings):
    def set_options(**options):
        settings.STATUSMSG = {**settings.STATUSMSG, **options}

    return set_options


async def badge(token):
    communicator, connected, code = await open_socket("/ws/notifications/", token=token)
    assert connected, code
    return communicator


async def test_one_socket_over_the_users_limit_is_accepted_and_closed_4429(user, other_user, token_of,
                                                                         statusmsg_options):
    statusmsg_options(MAX_SOCKETS_PER_USER=3)
    token = await amake(token_of)(user)
    sockets = [await badge(token) for _ in range(3)]
    for communicator in sockets:
        assert (await receive(communicator))["type"] == "unread_count"
    assert await handshake_refusal("/ws/notifications/", token=token) == 4429
    assert await handshake_refusal("/ws/tasks/", token=token) == 4429  # every kind of socket counts
    someone_else = await badge(await amake(token_of)(other_user))  # a limit per user
    assert (await receive(someone_else))["type"] == "unread_count"
    await sockets.pop().disconnect()  # a closed socket frees its slot
    again = await badge(token)
    assert (await receive(again))["type"] == "unread_count"
    for communicator in [*sockets, again, someone_else]:
        await communicator.disconnect()
    assert user.pk not in socket_slots._local and other_user.pk not in socket_slots._local


async def test_messages_are_limited_per_user_across_their_sockets(user, token_of, statusmsg_options):
    statusmsg_options(USER_MESSAGE_RATE=5.0)  # a burst of 10 over all the user's sockets
    token = await amake(token_of)(user)
    first, second = await badge(token), await badge(token)
    for communicator in (first, second):
        await receive(communicator)
    answers = []
    for communicator in (first, second) * 6:  # 12 pings: within each socket's own limit
        await communicator.send_json_to({"type": "ping"})
        answer = await communicator.receive_output(timeout=2)
        answers.append(answer.get("code", answer["type"]))
    # The user's 11th message closes that socket, the 12th the other one.
    assert answers == ["websocket.send"] * 10 + [1008, 1008]


@pytest.mark.parametrize("frame", ["[" * 50_000, '{"a":' * 10_000, "[" * 65 + "]" * 65])
async def test_deeply_nested_json_gets_an_error_and_the_socket_stays_open(frame, user, token_of):
    assert len(frame.encode()) <= guard.MAX_FRAME_BYTES
    communicator = await badge(await amake(token_of)(user))
    await receive(communicator)
    await communicator.send_to(text_data=frame)
    answer = await receive(communicator)
    assert answer["type"] == "error" and "nested deeper than 64" in answer["error"]
    await communicator.send_json_to({"type": "ping"})
    assert (await receive(communicator))["type"] == "pong"
    await communicator.disconnect()


def test_brackets_inside_strings_do_not_count_as_depth():
    assert not guard.too_deep('{"type": "ping", "note": "' + "[" * 1000 + '"}')
    assert not guard.too_deep("[" * 64 + "]" * 64)
    assert guard.too_deep("[" * 65 + "]" * 65)


def members(group: str) -> list[str]:
    """Return the channels of the in-memory layer subscribed to group."""
    return list(get_channel_layer().groups.get(group, {}))


async def test_a_consumer_that_crashes_leaves_no_group_behind(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", token=await amake(token_of)(user))
    assert connected
    await receive(communicator), await receive(communicator)
    followed = (job_group(job_id), auth_group(user.pk))
    assert all(len(members(group)) == 1 for group in followed)  # the process's subscription of each
    await get_channel_layer().group_send(job_group(job_id), {"type": "no.such.handler"})  # the consumer raises
    with pytest.raises(ValueError, match="No handler"):
        await communicator.wait(timeout=2)
    assert [members(group) for group in followed] == [[], []]
    assert user.pk not in socket_slots._local  # and its slot is free again


async def test_a_normal_close_leaves_no_group_behind(make_job, user, token_of):
    communicator, _, _ = await open_socket("/ws/tasks/", token=await amake(token_of)(user))
    await receive(communicator)
    layer = get_channel_layer()
    groups = [group for group, subscribed in layer.groups.items() if subscribed]
    assert groups
    await communicator.disconnect()
    assert all(members(group) == [] for group in groups)


async def test_an_unknown_path_is_refused_with_4404_and_logs_no_error(user, token_of, caplog):
    caplog.set_level(logging.WARNING)
    assert await handshake_refusal("/ws/no-such-socket/", token=await amake(token_of)(user)) == 4404
    assert await handshake_refusal("/not/even/ws") == 4404
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(("origin", "allowed"), [
    (b"http://testserver", True),
    (b"http://testserver:80", True),
    (b"http://testserver:9999", False),  # another app on the same host
    (b"https://testserver", False),  # another scheme
    (b"http://evil.example", False),
    (b"null", False),
])
async def test_the_origin_must_match_scheme_host_and_port(origin, allowed, user, session_of, token_of):
    session = await amake(session_of)(user)
    communicator, connected, _ = await open_socket("/ws/notifications/", session=session, origin=origin)
    assert connected is allowed
    if connected:
        await communicator.disconnect()
    # A script's token handshake needs no Origin, but one that sends a foreign one is refused too.
    communicator, connected, _ = await open_socket("/ws/notifications/", token=await amake(token_of)(user),
                                                   origin=origin)
    assert connected is allowed
    if connected:
        await communicator.disconnect()


async def test_a_trusted_origin_from_settings_is_allowed(user, session_of, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    session = await amake(session_of)(user)
    communicator, connected, _ = await open_socket("/ws/notifications/", session=session,
                                                   origin=b"https://app.example.com")
    assert connected
    assert not await nothing_more(communicator)  # the count arrives
    await communicator.disconnect()


async def test_a_handshake_while_the_layer_is_down_is_closed_1013_not_crashed(user, token_of, settings, caplog):
    token = await amake(token_of)(user)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.UnreachableLayer"}}
    assert await handshake_refusal("/ws/notifications/", token=token) == 1013  # the client retries later
    assert "channel layer unavailable" in caplog.text
