"""Bad client input: an error answer with the socket kept open; huge frames and floods closed."""

import pytest

from jobs import lifecycle
from realtime import guard

from .conftest import amake, open_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)


async def opened(make_job, user, token_of):
    job_id = await amake(make_job)()
    communicator, connected, _ = await open_socket(f"/ws/bulk-process/{job_id}", token=await amake(token_of)(user))
    assert connected
    await receive(communicator), await receive(communicator)
    return communicator, job_id


@pytest.mark.parametrize(
    ("frame", "complaint"),
    [
        ("{not json", "Malformed JSON"),
        ("[1, 2]", "Expected a JSON object"),
        ("42", "Expected a JSON object"),
        ('{"no": "type"}', "Unknown message type None"),
        ('{"type": "explode"}', "Unknown message type 'explode'"),
        ('{"type": "subscribe_job"}', "'subscribe_job' needs a job_id"),
        ('{"type": "subscribe_job", "job_id": "nope"}', "Not a job id: 'nope'"),
        ('{"type": "unsubscribe_job", "job_id": 7}', "Not a job id: 7"),
        ('{"type": "get_status", "job_id": {"a": 1}}', "Not a job id"),
        ('{"type": "subscribe_job", "job_id": "00000000-0000-0000-0000-000000000000"}', "No such job"),
    ],
)
async def test_bad_message_gets_an_error_and_the_socket_stays_open(frame, complaint, make_job, user, token_of):
    communicator, _ = await opened(make_job, user, token_of)
    await communicator.send_to(text_data=frame)
    answer = await receive(communicator)
    assert answer["type"] == "error" and complaint in answer["error"]
    await communicator.send_json_to({"type": "ping"})
    assert (await receive(communicator))["type"] == "pong"
    await communicator.disconnect()


async def test_binary_frame_gets_an_error(make_job, user, token_of):
    communicator, _ = await opened(make_job, user, token_of)
    await communicator.send_to(bytes_data=b'{"type": "ping"}')
    assert (await receive(communicator))["type"] == "error"
    await communicator.disconnect()


@pytest.mark.parametrize("frame", [{"text_data": "x" * (guard.MAX_FRAME_BYTES + 1)},
                                   {"text_data": "é" * (guard.MAX_FRAME_BYTES // 2 + 1)},
                                   {"bytes_data": b"x" * (guard.MAX_FRAME_BYTES + 1)}])
async def test_a_frame_over_64_kib_closes_the_socket_with_1009(frame, make_job, user, token_of):
    communicator, _ = await opened(make_job, user, token_of)
    await communicator.send_to(**frame)
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}
    await communicator.wait()


async def test_a_frame_of_exactly_64_kib_is_read(make_job, user, token_of):
    communicator, _ = await opened(make_job, user, token_of)
    await communicator.send_to(text_data=" " * (guard.MAX_FRAME_BYTES - 16) + '{"type":"ping"}')
    assert (await receive(communicator))["type"] == "pong"
    await communicator.disconnect()


async def test_a_flooding_client_is_closed_with_1008_and_others_go_on(make_job, user, token_of):
    flooder, job_id = await opened(make_job, user, token_of)
    calm, _, _ = await open_socket(f"/ws/bulk-process/{job_id}", token=await amake(token_of)(user))
    await receive(calm), await receive(calm)
    for _ in range(200):
        await flooder.send_json_to({"type": "ping"})
    outputs = []
    while True:
        output = await flooder.receive_output(timeout=2)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert outputs[-1] == {"type": "websocket.close", "code": 1008}
    assert len(outputs) - 1 == guard.BURST  # the burst was answered, the rest refused
    await amake(lifecycle.start_task)(job_id)
    assert (await receive(calm))["status"] == "progress"
    await calm.send_json_to({"type": "ping"})
    assert (await receive(calm))["type"] == "pong"
    await calm.disconnect()


def test_rate_limiter_allows_20_per_second_sustained_and_refuses_more():
    now = [0.0]
    limiter = guard.RateLimiter(clock=lambda: now[0])
    for _ in range(20 * 60):  # a minute at 20/s
        now[0] += 1 / 20
        assert limiter.allow()
    flood = guard.RateLimiter(clock=lambda: now[0])
    allowed = 0
    for _ in range(25 * 60):  # 25/s: the burst runs out after ~8 s
        now[0] += 1 / 25
        if not flood.allow():
            break
        allowed += 1
    assert 150 < allowed < 25 * 60
