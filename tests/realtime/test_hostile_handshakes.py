"""Handshakes carrying what the database cannot take (a NUL byte, an overlong topic) are refused, not crashed."""

import pytest

from .conftest import amake, handshake_refusal

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_malformed_token_is_nobody_without_asking_the_database():
    assert await handshake_refusal("/ws/tasks/", token="abc\x00def") == 4403
    assert await handshake_refusal("/ws/tasks/", token="Z" * 40) == 4403


@pytest.mark.parametrize("topic", ["solar\x00energy", "x" * 201])
async def test_a_topic_no_job_can_have_is_refused_4404(user, token_of, topic):
    token = await amake(token_of)(user)
    assert await handshake_refusal(f"/ws/progress/{topic}", token=token) == 4404
