"""Socket faults and limits through real daphne processes: Redis restarts, logout, big frames, the socket cap."""

import asyncio
import json
import re
import signal
import time
import uuid

import httpx
import pytest
import websockets
from django.db.models import F
from django.utils import timezone

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from notifications import queries, services
from notifications.models import Notification
from tests.processes import Daphne, in_thread, wait_for, with_server_password

from .private_redis import PrivateRedis

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user(user, settings):
    """alice, with a password the server processes can check."""
    return with_server_password(user, settings)


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    PrivateRedis.stop_all()  # the restarted ones too


def use_layer_on(settings, server: PrivateRedis) -> None:
    """Point this test process's publisher at server, under the prefix the daphne processes use."""
    config = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": config["BACKEND"], "CONFIG": {
        "hosts": [{"address": server.url, "socket_connect_timeout": 1, "socket_timeout": 3}],
        "prefix": config["CONFIG"]["prefix"],
    }}}


def token_for(server: Daphne) -> str:
    answer = httpx.post(f"{server.http_url}/api/auth/token", json={"username": "alice", "password": "alice-password"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def connect(server: Daphne, path: str, token: str | None = None, headers: dict | None = None):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Token {token}"
    return websockets.connect(f"{server.ws_url}{path}", additional_headers=headers, max_size=None)


class Watched:
    """A socket whose messages a reader task records, each with when it arrived."""

    def __init__(self, socket, name: str):
        self.socket, self.name, self.messages = socket, name, []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for text in self.socket:
            self.messages.append((time.monotonic(), json.loads(text)))

    def last_job_update(self, job_id: str) -> tuple[float, dict] | None:
        updates = [(at, m) for at, m in self.messages if m.get("type") == "job_update" and m["job_id"] == job_id]
        return updates[-1] if updates else None

    def last_count(self) -> tuple[float, int] | None:
        counts = [(at, m["count"] if m["type"] == "unread_count" else m["unread_count"])
                  for at, m in self.messages if m["type"] in ("unread_count", "notification")]
        return counts[-1] if counts else None


def test_sockets_open_through_a_redis_restart_end_with_the_final_state(private_redis, user, settings):
    """Redis is killed with sockets open; meanwhile a job ends behind the push path, another through the use
    case, and notifications arrive. Once Redis is back every socket shows the final rows and unread count."""
    use_layer_on(settings, private_redis)
    web = Daphne(REDIS_URL=private_redis.url).start()
    topic = f"restart-{uuid.uuid4().hex[:6]}"
    behind = str(lifecycle.create_task(name="behind", total_items=5, owner=user, metadata={"topic": topic}))
    announced = str(lifecycle.create_task(name="announced", total_items=5, owner=user, metadata={"topic": topic}))
    token = token_for(web)
    follows = {  # path -> the jobs its sockets must end on
        f"/ws/bulk-process/{behind}": [behind],
        f"/ws/bulk-process/{announced}": [announced],
        f"/ws/progress/{topic}": [behind, announced],
        "/ws/tasks/": [behind, announced],
        "/ws/notifications/": [],
    }

    def change_rows_while_redis_is_down():
        # A worker's final write whose push was lost: only the database knows it.
        TaskInfo.objects.filter(pk=behind).update(status=Status.COMPLETED, processed_items=5,
                                                  completed_at=timezone.now(), seq=F("seq") + 1)
        Notification.objects.create(user=user, type="system", title="behind", message="no push")
        # Through the use cases: their pushes fail and wait for the publisher's catch-up.
        lifecycle.start_task(announced)
        lifecycle.finish_task(announced, Status.COMPLETED, result={"saved": 5}, processed_items=5)
        services.create_notification(user, "system", "announced", "pushed while down")
        services.create_notification(None, "system", "everyone", "pushed while down")

    def final_state():
        return ({job: TaskInfo.objects.get(pk=job).seq for job in (behind, announced)},
                queries.get_unread_count(user))

    async def scenario():
        sockets = []
        for path in follows:
            for copy in range(3):
                sockets.append(Watched(await connect(web, path, token), f"{path}#{copy}"))
        await asyncio.sleep(1)  # connected, snapshots sent
        private_redis.kill(signal.SIGKILL)
        await asyncio.to_thread(private_redis.process.wait, 5)
        await asyncio.sleep(1.5)  # daphne notices, and keeps the sockets open
        assert all(not watched.reader.done() for watched in sockets), "a socket closed during the outage"
        # A new socket cannot follow anything yet: refused with 1013 (try again later), not a crash.
        async with connect(web, "/ws/notifications/", token) as refused:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await refused.recv()
        assert closed.value.rcvd.code == 1013
        await in_thread(change_rows_while_redis_is_down)
        seqs, unread = await in_thread(final_state)
        await asyncio.to_thread(PrivateRedis(port=private_redis.port).start)
        restarted = time.monotonic()
        waits = {}
        async with asyncio.timeout(30):
            while len(waits) < len(sockets):
                for watched in sockets:
                    path = watched.name.split("#")[0]
                    if follows[path]:
                        lasts = [watched.last_job_update(job) for job in follows[path]]
                        done = all(last and last[1]["seq"] == seqs[job] and last[1]["status"] == "completed"
                                   for job, last in zip(follows[path], lasts, strict=True))
                        at = max(last[0] for last in lasts) if done else None
                    else:
                        last = watched.last_count()
                        at = last[0] if last and last[1] == unread else None
                    if at is not None:
                        waits[watched.name] = at - restarted
                await asyncio.sleep(0.05)
        await asyncio.sleep(6)  # the publisher's catch-up, later: it must not move any socket off the truth
        for watched in sockets:
            path = watched.name.split("#")[0]
            for job in follows[path]:
                assert watched.last_job_update(job)[1]["seq"] == seqs[job], watched.name
            if not follows[path]:
                assert watched.last_count()[1] == unread, watched.name
            assert not watched.reader.done(), f"{watched.name} closed"
            await watched.socket.close()
        return waits

    try:
        waits = asyncio.run(scenario())
    finally:
        web.stop()
        private_redis.stop()
    print(f"Redis restart -> final message on {len(waits)} sockets: max {max(waits.values()):.2f}s, "
          f"min {min(waits.values()):.2f}s")
    assert "Redis subscription lost" in web.log() and "Redis subscription restored" in web.log()
    assert "Exception inside application" not in web.log()
    assert max(waits.values()) < 10, waits


def login(server: Daphne) -> httpx.Client:
    client = httpx.Client(base_url=server.http_url, headers={"Origin": server.http_url})
    page = client.get("/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post("/accounts/login/", data={"username": "alice", "password": "alice-password",
                                                   "csrfmiddlewaretoken": csrf})
    assert answer.status_code == 302 and "sessionid" in client.cookies, answer.text
    return client


def test_logout_closes_that_sessions_sockets_with_4401_and_leaves_the_others(daphne, user, job_id=None):
    job_id = str(lifecycle.create_task(name="job", total_items=1, owner=user))
    tab, other = login(daphne), login(daphne)
    token = token_for(daphne)

    def session_headers(client):
        return {"Cookie": f"sessionid={client.cookies['sessionid']}", "Origin": daphne.http_url}

    async def scenario():
        mine = [await connect(daphne, path, headers=session_headers(tab))
                for path in ("/ws/notifications/", f"/ws/bulk-process/{job_id}", "/ws/tasks/")]
        others = [await connect(daphne, "/ws/notifications/", headers=session_headers(other)),
                  await connect(daphne, "/ws/notifications/", token)]
        for socket in mine + others:
            await socket.recv()
        started = time.monotonic()
        answer = await asyncio.to_thread(tab.post, "/accounts/logout/",
                                         headers={"X-CSRFToken": tab.cookies["csrftoken"]})
        assert answer.status_code in (200, 302), answer.text
        codes = []
        for socket in mine:
            async with asyncio.timeout(2):
                try:
                    while True:
                        await socket.recv()
                except websockets.ConnectionClosed as closed:
                    codes.append(closed.rcvd.code)
        closed_after = time.monotonic() - started
        for socket in others:
            await socket.send(json.dumps({"type": "ping"}))
            while json.loads(await asyncio.wait_for(socket.recv(), 2))["type"] != "pong":
                pass
            await socket.close()
        return codes, closed_after

    codes, closed_after = asyncio.run(scenario())
    print(f"logout -> 4401 on 3 sockets in {closed_after:.2f}s")
    assert codes == [4401] * 3
    assert closed_after < 2


def test_a_2_mib_frame_is_closed_1009_by_daphne_not_dropped(daphne, user):
    token = token_for(daphne)

    async def close_code(frame: str) -> int:
        async with connect(daphne, "/ws/notifications/", token) as socket:
            await socket.recv()
            try:
                await socket.send(frame)
                async with asyncio.timeout(10):
                    while True:
                        await socket.recv()
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None, "no close frame: the connection was dropped (1006)"
                return closed.rcvd.code

    assert asyncio.run(close_code("x" * (2 * 1024 * 1024))) == 1009
    assert asyncio.run(close_code("x" * (64 * 1024 + 1))) == 1009
    assert "frame too big" in daphne.log()


def test_the_51st_socket_of_a_user_across_two_daphnes_is_closed_4429(private_redis, user, other_user):
    first = Daphne(REDIS_URL=private_redis.url).start()
    second = Daphne(REDIS_URL=private_redis.url).start()
    token = token_for(first)

    async def scenario():
        sockets = [await connect(server, "/ws/notifications/", token) for server in [first] * 30 + [second] * 20]
        for socket in sockets:
            assert json.loads(await socket.recv())["type"] == "unread_count"
        codes = []
        for server in (first, second):
            async with connect(server, "/ws/notifications/", token) as refused:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await refused.recv()
                codes.append(closed.value.rcvd.code)
        await sockets.pop().close()
        await asyncio.sleep(0.2)
        async with connect(second, "/ws/notifications/", token) as again:
            assert json.loads(await again.recv())["type"] == "unread_count"
        for socket in sockets:
            await socket.close()
        return codes

    try:
        codes = asyncio.run(scenario())
    finally:
        first.stop()
        second.stop()
    assert codes == [4429, 4429]


def test_an_unknown_socket_path_is_refused_4404_without_an_error_log(daphne, user):
    token = token_for(daphne)

    async def refusal() -> int:
        async with connect(daphne, "/ws/nothing-here/", token) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        return closed.value.rcvd.code

    assert asyncio.run(refusal()) == 4404
    assert "Exception inside application" not in daphne.log() and "No route found" not in daphne.log()


def test_the_first_push_after_a_redis_restart_goes_through_on_a_fresh_connection(private_redis, settings, caplog):
    """The publisher's pooled connection died with Redis: the push is retried once instead of pausing pushes."""
    import logging

    import redis

    from realtime import publisher

    caplog.set_level(logging.INFO, logger="realtime.publisher")
    use_layer_on(settings, private_redis)
    listener = redis.Redis.from_url(private_redis.url).pubsub()
    assert publisher.publish_to_user(7, {"type": "x"}) is True  # the pool now holds a connection
    private_redis.kill(signal.SIGKILL)
    private_redis.process.wait(5)
    restarted = PrivateRedis(port=private_redis.port).start()
    try:
        listener = redis.Redis.from_url(restarted.url).pubsub()
        listener.psubscribe("*user.7")
        listener.get_message(timeout=1)
        assert publisher.publish_to_user(7, {"type": "y"}) is True
        assert "push retried" in caplog.text and "push failed" not in caplog.text
        message = listener.get_message(timeout=2)
        assert message and message["type"] == "pmessage"
        assert publisher.publish_to_user(7, {"type": "z"}) is True  # and pushes are not paused
    finally:
        listener.close()
        restarted.stop()


def test_a_subscription_dropped_by_redis_is_restored_and_the_sockets_resynced(private_redis, user):
    """Redis stays up but drops daphne's subscriber (CLIENT KILL, as its pub/sub output-buffer limit
    does): no push fails, so only the socket's own resync can bring the state missed meanwhile."""
    import redis

    web = Daphne(REDIS_URL=private_redis.url).start()
    job_id = str(lifecycle.create_task(name="job", total_items=5, owner=user))
    token = token_for(web)

    async def scenario():
        job = Watched(await connect(web, f"/ws/bulk-process/{job_id}", token), "job")
        badge = Watched(await connect(web, "/ws/notifications/", token), "badge")
        await asyncio.sleep(0.5)

        def change_then_drop_the_subscriber():
            TaskInfo.objects.filter(pk=job_id).update(status=Status.COMPLETED, processed_items=5,
                                                      completed_at=timezone.now(), seq=F("seq") + 1)
            Notification.objects.create(user=user, type="system", title="missed", message="x")
            redis.Redis.from_url(private_redis.url).client_kill_filter(_type="pubsub")
            return TaskInfo.objects.get(pk=job_id).seq, queries.get_unread_count(user)

        seq, unread = await in_thread(change_then_drop_the_subscriber)
        dropped = time.monotonic()
        async with asyncio.timeout(10):
            while not ((last := job.last_job_update(job_id)) and last[1]["seq"] == seq
                       and (count := badge.last_count()) and count[1] == unread):
                await asyncio.sleep(0.05)
        waited = max(last[0], count[0]) - dropped
        for watched in (job, badge):
            assert not watched.reader.done()
            await watched.socket.close()
        return waited

    try:
        waited = asyncio.run(scenario())
    finally:
        web.stop()
    print(f"subscriber dropped -> final message in {waited:.2f}s")
    assert waited < 5


def test_the_socket_count_survives_a_redis_restart_without_failing_open(private_redis, settings, caplog):
    import redis

    from realtime import socket_slots

    use_layer_on(settings, private_redis)
    settings.STATUSMSG = {**settings.STATUSMSG, "MAX_SOCKETS_PER_USER": 1}
    key = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:sockets:user:7"

    async def scenario():
        assert await socket_slots.claim(7, "first") is True
        assert await socket_slots.claim(7, "second") is False
        await socket_slots.release(7, "first")
        private_redis.kill(signal.SIGKILL)
        await asyncio.to_thread(private_redis.process.wait, 5)
        await asyncio.to_thread(PrivateRedis(port=private_redis.port).start)
        # The client's pooled connection died with Redis: retried, so counted (not let through).
        assert await socket_slots.claim(7, "third") is True
        assert await socket_slots.claim(7, "fourth") is False
        await socket_slots.release(7, "third")

    asyncio.run(scenario())
    assert "socket count unavailable" not in caplog.text
    assert redis.Redis.from_url(private_redis.url).zcard(key) == 0


def test_the_sockets_of_one_daphne_share_its_redis_subscriptions(private_redis, user, settings):
    """Redis holds as many subscriptions for five sockets on a job as for one, and sends the job's update
    to the daphne process once; each socket relays it, and all are unsubscribed when the last one closes."""
    import redis

    from jobs import announce

    use_layer_on(settings, private_redis)
    web = Daphne(REDIS_URL=private_redis.url).start()
    job_id = str(lifecycle.create_task(name="job", total_items=5, owner=user))
    token = token_for(web)
    inspector = redis.Redis.from_url(private_redis.url)

    def subscriptions() -> int:
        return sum(int(client["sub"]) for client in inspector.client_list(_type="pubsub"))

    def write_then_push():
        from django.db import connection

        try:
            TaskInfo.objects.filter(pk=job_id).update(processed_items=2, seq=F("seq") + 1)
            return announce.announce(job_id)
        finally:
            connection.close()

    async def open_job_socket():
        socket = await connect(web, f"/ws/bulk-process/{job_id}", token)
        await socket.recv(), await socket.recv()  # connection_established, the snapshot
        return socket

    async def scenario():
        sockets = [await open_job_socket()]
        for_one = await asyncio.to_thread(subscriptions)
        sockets += [await open_job_socket() for _ in range(4)]
        for_five = await asyncio.to_thread(subscriptions)
        sent = await asyncio.to_thread(write_then_push)
        async with asyncio.timeout(10):
            relayed = [json.loads(await socket.recv()) for socket in sockets]
        for socket in sockets:
            await socket.close()
        return for_one, for_five, sent, relayed

    try:
        for_one, for_five, sent, relayed = asyncio.run(scenario())
        wait_for(lambda: subscriptions() == 0, timeout=10, message="every subscription gone")
    finally:
        web.stop()
    assert for_one > 0 and for_five == for_one
    assert [(message["seq"], message["task"]["processed_items"]) for message in relayed] == [(sent["seq"], 2)] * 5
