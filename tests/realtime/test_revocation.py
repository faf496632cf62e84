"""Logout, a password change, a deleted token or a deactivated user close that user's sockets with 4401."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token, TokenProxy

from realtime import revocation

from .conftest import amake, nothing_more, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in_client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


async def badge_socket(**credentials):
    communicator, connected, code = await open_socket("/ws/notifications/", **credentials)
    assert connected, code
    assert (await receive(communicator))["type"] == "unread_count"
    return communicator


async def closed_with(communicator) -> int | None:
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close", output
    return output.get("code")


async def still_open(communicator) -> bool:
    await communicator.send_json_to({"type": "ping"})
    return (await receive(communicator))["type"] == "pong" and await nothing_more(communicator)


async def test_logout_closes_that_sessions_sockets_only(user, token_of, make_job):
    tab, other_browser = await amake(logged_in_client)(user), await amake(logged_in_client)(user)
    job_id = await amake(make_job)()
    this_session = tab.cookies["sessionid"].value
    badge = await badge_socket(session=this_session)
    job, _, _ = await open_socket(f"/ws/bulk-process/{job_id}", session=this_session)
    await receive(job), await receive(job)
    elsewhere = await badge_socket(session=other_browser.cookies["sessionid"].value)
    script = await badge_socket(token=await amake(token_of)(user))
    await amake(tab.logout)()
    assert await closed_with(badge) == 4401
    assert await closed_with(job) == 4401
    assert await still_open(elsewhere) and await still_open(script)
    for communicator in (elsewhere, script):
        await communicator.disconnect()


async def test_a_password_change_closes_every_session_socket_but_not_token_sockets(user, token_of):
    browsers = [await badge_socket(session=(await amake(logged_in_client)(user)).cookies["sessionid"].value)
                for _ in range(2)]
    script = await badge_socket(token=await amake(token_of)(user))

    def change_password():
        user.set_password("a-new-password")
        user.save()

    await amake(change_password)()
    for browser in browsers:
        assert await closed_with(browser) == 4401
    assert await still_open(script)
    await script.disconnect()


@pytest.mark.parametrize("model", [Token, TokenProxy])  # the admin deletes TokenProxy rows
async def test_deleting_a_token_closes_the_sockets_opened_with_it(model, user, token_of):
    key = await amake(token_of)(user)
    by_token = await badge_socket(token=key)
    by_session = await badge_socket(session=(await amake(logged_in_client)(user)).cookies["sessionid"].value)
    await amake(lambda: model.objects.filter(key=key).delete())()
    assert await closed_with(by_token) == 4401
    assert await still_open(by_session)
    await by_session.disconnect()


async def test_deactivating_a_user_closes_all_their_sockets_and_nobody_elses(user, other_user, token_of):
    mine = [await badge_socket(token=await amake(token_of)(user)),
            await badge_socket(session=(await amake(logged_in_client)(user)).cookies["sessionid"].value)]
    theirs = await badge_socket(token=await amake(token_of)(other_user))
    user.is_active = False
    await amake(user.save)()
    for communicator in mine:
        assert await closed_with(communicator) == 4401
    assert await still_open(theirs)
    await theirs.disconnect()


def test_an_ordinary_save_of_a_user_revokes_nothing(user, monkeypatch):
    revoked = []
    monkeypatch.setattr(revocation, "publish_revoked", lambda *args: revoked.append(args))
    user.first_name = "Alice"
    user.save()
    user.refresh_from_db()
    user.save(update_fields=["last_login"])
    assert revoked == []


def test_no_key_travels_in_a_revocation(user, monkeypatch):
    from realtime import publisher

    sent = []
    monkeypatch.setattr(publisher, "publish_auth_event", lambda user_id, event: sent.append(event))
    revocation.publish_revoked(user.pk, revocation.TOKEN, "secret-token-key")
    assert sent == [{"type": "auth.revoked", "kind": "token", "key": revocation.digest("secret-token-key")}]
    assert "secret-token-key" not in str(sent)


@pytest.fixture
def revocations_lost(monkeypatch):
    """As if every revocation were published while Redis was down, and its publisher then died."""
    monkeypatch.setattr(revocation, "publish_revoked", lambda *args: None)


async def test_a_revocation_lost_in_an_outage_closes_the_socket_when_the_layer_is_back(user, token_of,
                                                                                        revocations_lost):
    from channels.layers import get_channel_layer

    from realtime.groups import auth_group

    tab = await amake(logged_in_client)(user)
    key = await amake(token_of)(user)
    by_session = await badge_socket(session=tab.cookies["sessionid"].value)
    by_token = await badge_socket(token=key)
    kept = await badge_socket(session=(await amake(logged_in_client)(user)).cookies["sessionid"].value)
    await amake(tab.logout)()
    await amake(lambda: Token.objects.filter(key=key).delete())()
    assert await nothing_more(by_session) and await nothing_more(by_token)  # nothing arrived
    await get_channel_layer().group_send(auth_group(user.pk), {"type": "layer.reconnected"})
    assert await closed_with(by_session) == 4401
    assert await closed_with(by_token) == 4401
    assert (await receive(kept))["type"] == "unread_count"  # still valid: it only counts again
    await kept.disconnect()


async def test_taking_staff_rights_away_closes_that_user_s_sockets(staff_user, other_user, token_of):
    """A staff socket relays every user's jobs: it must not outlive its user's staff rights."""
    mine = await badge_socket(token=await amake(token_of)(staff_user))
    theirs = await badge_socket(token=await amake(token_of)(other_user))
    staff_user.is_staff = False
    await amake(staff_user.save)()
    assert await closed_with(mine) == 4401
    assert await still_open(theirs)
    await theirs.disconnect()
