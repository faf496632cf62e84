"""Sockets against the real ASGI application (auth stack and routing included), in-memory layer."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from jobs import lifecycle
from realtime import publisher

ORIGIN = b"http://testserver"
HOST = b"testserver"


def _reset_publisher() -> None:
    publisher._paused_until = 0.0
    publisher._missed.clear()
    publisher._missed_events.clear()
    timer = publisher._catch_up_timer
    if timer is not None:
        timer.cancel()
        publisher._catch_up_timer = None


@pytest.fixture(autouse=True)
def publisher_not_paused():
    """A test that makes a push fail must not silence (or catch up in) the next one."""
    _reset_publisher()
    yield
    _reset_publisher()


@pytest.fixture
def token_of():
    def token(account) -> str:
        return Token.objects.get_or_create(user=account)[0].key

    return token


@pytest.fixture
def session_of():
    def session(account) -> str:
        client = Client()
        client.force_login(account)
        return client.cookies["sessionid"].value

    return session


async def open_socket(path: str, token: str | None = None, session: str | None = None,
                      origin: bytes | None = ORIGIN):
    """Connect to path; return (communicator, connected, close_code)."""
    from statusmsg.asgi import application

    headers = [(b"host", HOST)]
    if origin is not None:
        headers.append((b"origin", origin))
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    if session is not None:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def handshake_refusal(path: str, **socket_options) -> int | None:
    """Open path and return the close code it was refused with, after checking no data came first.

    A refused socket is accepted and closed at once; a close before accept (the Origin
    validator's) comes back from connect() itself.
    """
    communicator, connected, code = await open_socket(path, **socket_options)
    if not connected:
        return code
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close", f"data before the close: {output}"
    return output.get("code")


async def receive(communicator, timeout: float = 2) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def nothing_more(communicator, timeout: float = 0.2) -> bool:
    return await communicator.receive_nothing(timeout=timeout)


@pytest.fixture
def make_job(user):
    """Create a pending job (no worker runs it); return its id as a string."""

    def make(owner=user, topic=None, total_items=10):
        metadata = {"topic": topic} if topic else {}
        return str(lifecycle.create_task(name="job", total_items=total_items, owner=owner, metadata=metadata))

    return make


amake = database_sync_to_async
