"""/ws/system/: the system page's socket sends staff the full status on connect and again every few seconds."""

import pytest

from operations import consumers
from tests.realtime.conftest import handshake_refusal, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


@consumers.database_sync_to_async
def token_for(account) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=account)[0].key


async def test_staff_get_the_status_at_once_and_then_again(staff_user, make_job, monkeypatch):
    monkeypatch.setattr(consumers, "SEND_EVERY", 0.1)
    await make_job()
    token = await token_for(staff_user)
    communicator, connected, _ = await open_socket("/ws/system/", token=token)
    assert connected
    first = await receive(communicator)
    assert first["type"] == "system_status" and first["status"]["queue"]["pending"] == 1
    second = await receive(communicator)
    assert second["type"] == "system_status"
    await communicator.disconnect()


@pytest.fixture
def make_job(user):
    from channels.db import database_sync_to_async

    from jobs import lifecycle

    return database_sync_to_async(lambda: lifecycle.create_task(name="job", owner=user))


async def test_others_are_refused_with_4403(user):
    token = await token_for(user)
    assert await handshake_refusal("/ws/system/", token=token) == 4403
    assert await handshake_refusal("/ws/system/") == 4403


async def test_a_failed_status_read_closes_1012_so_the_page_reconnects(staff_user, monkeypatch):
    def broken():
        raise RuntimeError("database away")

    monkeypatch.setattr(consumers, "system_status", broken)
    communicator, connected, _ = await open_socket("/ws/system/", token=await token_for(staff_user))
    assert connected
    output = await communicator.receive_output(timeout=2)
    assert (output["type"], output.get("code")) == ("websocket.close", 1012)
