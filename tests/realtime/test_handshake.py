"""Who may open which socket: session or token auth, Origin check, owner or staff, 4403/4404."""

import uuid

import pytest

from jobs.models import TaskInfoQuerySet

from .conftest import ORIGIN, amake, handshake_refusal, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_is_refused_with_4403_on_every_socket(make_job):
    job_id = await amake(make_job)()
    for path in (f"/ws/bulk-process/{job_id}", "/ws/progress/news", "/ws/tasks/"):
        assert await handshake_refusal(path) == 4403, path


async def test_someone_elses_job_is_refused_with_4403(make_job, other_user, token_of):
    job_id = await amake(make_job)()
    token = await amake(token_of)(other_user)
    assert await handshake_refusal(f"/ws/bulk-process/{job_id}", token=token) == 4403


@pytest.mark.parametrize("job_id", ["not-a-uuid", "123", str(uuid.uuid4())])
async def test_malformed_or_unknown_job_is_refused_with_4404(job_id, user, token_of):
    token = await amake(token_of)(user)
    assert await handshake_refusal(f"/ws/bulk-process/{job_id}", token=token) == 4404


async def test_staff_may_watch_anyones_job(make_job, staff_user, token_of):
    job_id = await amake(make_job)()
    token = await amake(token_of)(staff_user)
    communicator, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}/", token=token)
    assert connected
    assert (await receive(communicator))["type"] == "connection_established"
    assert (await receive(communicator))["job_id"] == job_id
    await communicator.disconnect()


async def test_session_login_from_an_allowed_origin_connects(make_job, user, session_of):
    job_id = await amake(make_job)()
    communicator, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", session=await amake(session_of)(user))
    assert connected
    await communicator.disconnect()


@pytest.mark.parametrize("origin", [b"http://evil.example", None])
async def test_session_login_from_a_foreign_or_missing_origin_is_refused(origin, make_job, user, session_of):
    job_id = await amake(make_job)()
    _, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", session=await amake(session_of)(user),
                                        origin=origin)
    assert not connected


async def test_token_header_authenticates_a_script_without_origin(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", token=await amake(token_of)(user),
                                                   origin=None)
    assert connected
    await communicator.disconnect()


async def test_token_header_with_a_foreign_origin_is_refused(make_job, user, token_of):
    job_id = await amake(make_job)()
    _, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", token=await amake(token_of)(user),
                                        origin=b"http://evil.example")
    assert not connected


async def test_a_wrong_token_is_anonymous_even_beside_a_valid_session(make_job, user, session_of):
    job_id = await amake(make_job)()
    session = await amake(session_of)(user)
    refusal = await handshake_refusal(f"/ws/bulk-process/{job_id}", token="wrong-key", session=session, origin=ORIGIN)
    assert refusal == 4403


async def test_an_inactive_users_token_is_refused(make_job, user, token_of):
    job_id = await amake(make_job)()
    key = await amake(token_of)(user)
    user.is_active = False
    await amake(user.save)()
    assert await handshake_refusal(f"/ws/bulk-process/{job_id}", token=key) == 4403


async def test_the_handshake_follows_the_jobs_visibility_rule(make_job, user, token_of, monkeypatch):
    """One ownership rule (TaskInfo.objects.visible_to): the socket asks it, it does not restate it."""
    job_id = await amake(make_job)()
    token = await amake(token_of)(user)
    monkeypatch.setattr(TaskInfoQuerySet, "visible_to", lambda tasks, account: tasks.none())
    assert await handshake_refusal(f"/ws/bulk-process/{job_id}", token=token) == 4403
    assert await handshake_refusal(f"/ws/bulk-process/{uuid.uuid4()}", token=token) == 4404
