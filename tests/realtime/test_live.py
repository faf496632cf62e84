"""Live updates across real processes: qcluster -> Redis -> daphne -> a `websockets` client."""

import asyncio
import itertools
import json
import time
import uuid

import httpx
import pytest
import websockets

from jobs.models import Status, TaskInfo
from tests.processes import Daphne, Qcluster, in_thread, wait_for, with_server_password

from .private_redis import PrivateRedis

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FINAL = {"completed", "error", "cancelled"}


@pytest.fixture
def user(user, settings):
    """alice, with a password the server processes can check."""
    return with_server_password(user, settings)


def articles(count: int) -> list[dict]:
    run = uuid.uuid4().hex[:8]
    return [{"url": f"https://example.com/{run}/{n}", "title": f"Article {n}", "content": "x" * 200}
            for n in range(count)]


def token_for(server: Daphne, username="alice", password="alice-password") -> str:
    answer = httpx.post(f"{server.http_url}/api/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def start_bulk_save(server: Daphne, token: str, items: list, topic: str) -> str:
    answer = httpx.post(f"{server.http_url}/api/background-tasks/bulk-save", json={"articles": items, "topic": topic},
                        headers={"Authorization": f"Token {token}"}, timeout=30)
    assert answer.status_code == 202, answer.text
    return answer.json()["task_id"]


def rest_task(server: Daphne, token: str, job_id: str) -> dict:
    return httpx.get(f"{server.http_url}/api/background-tasks/task/{job_id}",
                     headers={"Authorization": f"Token {token}"}).json()


def open_socket(server: Daphne, path: str, token: str):
    return websockets.connect(f"{server.ws_url}{path}", additional_headers={"Authorization": f"Token {token}"})


async def updates_until_final(socket, job_id: str, timeout: float = 60) -> list[dict]:
    """Return the job's job_updates as received, up to and including its final one."""
    seen = []
    async with asyncio.timeout(timeout):
        while not seen or seen[-1]["status"] not in FINAL:
            message = json.loads(await socket.recv())
            if message.get("type") == "job_update" and message["job_id"] == job_id:
                seen.append(message)
    return seen


def assert_strictly_increasing(updates: list[dict]) -> None:
    seqs = [update["seq"] for update in updates]
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs


def test_a_client_sees_a_bulk_save_progress_in_seq_order_ending_on_the_rest_answer(daphne, qcluster, user):
    token = token_for(daphne)
    topic = f"live-{uuid.uuid4().hex[:6]}"

    async def watch():
        async with open_socket(daphne, f"/ws/progress/{topic}", token) as socket:
            assert json.loads(await socket.recv())["type"] == "connection_established"
            job_id = await asyncio.to_thread(start_bulk_save, daphne, token, articles(1000), topic)
            return job_id, await updates_until_final(socket, job_id)

    job_id, updates = asyncio.run(watch())
    assert_strictly_increasing(updates)
    statuses = [update["status"] for update in updates]
    assert statuses[-1] == "completed" and "progress" in statuses, statuses
    assert any(0 < update["processed"] < 1000 for update in updates), [u["processed"] for u in updates]
    assert updates[-1]["task"] == rest_task(daphne, token, job_id)
    assert updates[-1]["results"] == {"saved": 1000, "duplicates": 0, "errors": []}


def test_clients_of_two_daphne_processes_see_the_same_job(daphne, qcluster, user):
    second = Daphne().start()
    try:
        token = token_for(daphne)
        topic = f"two-{uuid.uuid4().hex[:6]}"

        async def watch():
            async with open_socket(daphne, f"/ws/progress/{topic}", token) as one, \
                    open_socket(second, f"/ws/progress/{topic}", token) as two:
                for socket in (one, two):
                    assert json.loads(await socket.recv())["type"] == "connection_established"
                job_id = await asyncio.to_thread(start_bulk_save, second, token, articles(300), topic)
                return job_id, await asyncio.gather(updates_until_final(one, job_id),
                                                    updates_until_final(two, job_id))

        job_id, (seen_by_one, seen_by_two) = asyncio.run(watch())
    finally:
        second.stop()
    final = rest_task(daphne, token, job_id)
    for updates in (seen_by_one, seen_by_two):
        assert_strictly_increasing(updates)
        assert updates[-1]["task"] == final and updates[-1]["status"] == "completed"
    assert {u["seq"] for u in seen_by_one} == {u["seq"] for u in seen_by_two}


def test_a_job_completes_while_redis_is_down_and_clients_see_the_final_state_after(user):
    """The job does not notice; the socket that stayed open gets the final state by the
    publisher's catch-up once Redis is back, and a reconnecting client from its snapshot."""
    redis_server = [PrivateRedis().start()]
    # Big enough to still be running when Redis goes away.
    web = Daphne(REDIS_URL=redis_server[0].url, STATUSMSG_MAX_BULK_ITEMS=20000).start()
    cluster = Qcluster(REDIS_URL=redis_server[0].url).start()
    token = token_for(web)
    topic = f"down-{uuid.uuid4().hex[:6]}"

    async def scenario():
        async with open_socket(web, f"/ws/progress/{topic}", token) as kept_open:
            await kept_open.recv()
            job_id = await asyncio.to_thread(start_bulk_save, web, token, articles(6000), topic)
            async with asyncio.timeout(30):
                while True:  # the job runs, and its pushes get through
                    message = json.loads(await kept_open.recv())
                    if message.get("status") == "progress" and message["processed"] > 0:
                        break
            await asyncio.to_thread(redis_server[0].stop)
            running = await in_thread(lambda: TaskInfo.objects.get(pk=job_id).status)
            assert running == Status.RUNNING, "the job ended before Redis stopped"
            started = time.monotonic()
            await in_thread(lambda: wait_for(lambda: TaskInfo.objects.get(pk=job_id).status != Status.RUNNING,
                                             timeout=90, message="the job's end"))
            outage = time.monotonic() - started
            redis_server[0] = await asyncio.to_thread(PrivateRedis(port=redis_server[0].port).start)
            caught_up = (await updates_until_final(kept_open, job_id, timeout=30))[-1]

        # A client reconnects with backoff until daphne's layer is back on Redis.
        for _ in range(40):
            try:
                async with open_socket(web, f"/ws/bulk-process/{job_id}", token) as socket:
                    assert json.loads(await socket.recv())["type"] == "connection_established"
                    return job_id, outage, caught_up, json.loads(await socket.recv())
            except (OSError, websockets.InvalidStatus, websockets.ConnectionClosed):
                await asyncio.sleep(0.25)
        raise AssertionError("could not reconnect after Redis came back")

    try:
        job_id, outage, caught_up, snapshot = asyncio.run(scenario())
        task = TaskInfo.objects.get(pk=job_id)
        assert task.status == Status.COMPLETED, task.error
        assert task.result["saved"] == 6000
        assert "push failed" in cluster.log()
        print(f"job ran {(task.completed_at - task.started_at).total_seconds():.1f}s, ended {outage:.1f}s "
              f"after Redis stopped; push failures logged={cluster.log().count('push failed')}")
        final = rest_task(web, token, job_id)
        assert caught_up["status"] == "completed" and caught_up["task"] == final
        assert snapshot["status"] == "completed" and snapshot["task"] == final
    finally:
        cluster.stop()
        web.stop()
        PrivateRedis.stop_all()


def test_daphne_sends_1009_for_a_big_frame_1008_for_a_flood_and_refuses_strangers(daphne, user, other_user):
    """The close codes reach a real client through daphne (see realtime/daphne_compat.py)."""
    from rest_framework.authtoken.models import Token

    from jobs import lifecycle

    job_id = str(lifecycle.create_task(name="job", total_items=1, owner=user))
    token = token_for(daphne)
    stranger = Token.objects.create(user=other_user).key

    async def close_code(frames: list[str]) -> int:
        async with open_socket(daphne, f"/ws/bulk-process/{job_id}", token) as socket:
            await socket.recv(), await socket.recv()
            for frame in frames:
                try:
                    await socket.send(frame)
                except websockets.ConnectionClosed:
                    break
            async with asyncio.timeout(10):
                try:
                    while True:
                        await socket.recv()
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code

    async def refused(key: str, path: str) -> int:
        async with open_socket(daphne, path, key) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()  # no data: the close comes first
        return closed.value.rcvd.code

    assert asyncio.run(close_code(["x" * (64 * 1024 + 1)])) == 1009
    assert asyncio.run(close_code(['{"type": "ping"}'] * 200)) == 1008
    # The client sees why it was refused, so a browser page can stop retrying.
    assert asyncio.run(refused(stranger, f"/ws/bulk-process/{job_id}")) == 4403
    assert asyncio.run(refused(token, f"/ws/bulk-process/{uuid.uuid4()}")) == 4404


def test_a_push_from_another_process_reaches_a_daphne_socket(daphne, user):
    from django.db.models import F

    from jobs import announce, lifecycle

    job_id = str(lifecycle.create_task(name="job", total_items=10, owner=user))
    token = token_for(daphne)

    def write_then_push():
        from django.db import connection

        try:
            TaskInfo.objects.filter(pk=job_id).update(processed_items=3, seq=F("seq") + 1)
            return announce.announce(job_id, stage="saving")
        finally:
            connection.close()  # this thread's own; left open it blocks dropping the test database

    async def scenario():
        async with open_socket(daphne, "/ws/tasks/", token) as socket:
            assert json.loads(await socket.recv())["type"] == "connection_established"
            snapshot = json.loads(await socket.recv())
            assert (await asyncio.to_thread(write_then_push))["seq"] == snapshot["seq"] + 1
            async with asyncio.timeout(10):
                return snapshot, json.loads(await socket.recv())

    snapshot, update = asyncio.run(scenario())
    assert (update["job_id"], update["status"], update["stage"]) == (job_id, "pending", "saving")
    assert update["seq"] == snapshot["seq"] + 1 and update["task"]["processed_items"] == 3
