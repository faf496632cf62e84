"""The deployment of deploy/ really runs: nginx, two daphnes, two clusters, a reaper, PostgreSQL and Redis."""

import asyncio
import concurrent.futures
import json
import signal
import time

import httpx
import psycopg
import pytest
import websockets
from django.db import connection

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from notifications.models import Notification
from tests.processes import wait_for, with_server_password

from .topology import Topology

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {"STATUSMSG_STALE_AFTER": "3", "STATUSMSG_HEARTBEAT_INTERVAL": "0.5", "STATUSMSG_REAP_INTERVAL": "1",
        "STATUSMSG_PROGRESS_INTERVAL": "0.1"}
REAPED_WITHIN = 3 + 1 + 6  # STALE_AFTER + the reaper's period + room for a loaded 2-core machine
FINAL = {"completed", "error", "cancelled"}


@pytest.fixture
def user(user, settings):
    """alice, with a password the server processes can check."""
    return with_server_password(user, settings)


@pytest.fixture
def topology(tmp_path, transactional_db):
    deployment = Topology(tmp_path, **FAST).start()
    yield deployment
    deployment.stop()


def token_via(topology: Topology) -> str:
    answer = httpx.post(f"{topology.nginx.http_url}/api/auth/token",
                        json={"username": "alice", "password": "alice-password"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def counting_task(user, items: int = 20, delay: float = 0.1) -> str:
    return str(lifecycle.create_task("count", total_items=items, owner=user, kind="counting",
                                     params={"items": items, "delay": delay}))


async def follow(url: str, token: str, job_id: str, timeout: float = 60) -> list[dict]:
    """Return every job_update of job_id to its final one, reconnecting (and re-snapshotting) on a drop."""
    seen: list[dict] = []
    async with asyncio.timeout(timeout):
        while not seen or seen[-1]["status"] not in FINAL:
            try:
                async with websockets.connect(f"{url}/ws/bulk-process/{job_id}",
                                              additional_headers={"Authorization": f"Token {token}"}) as socket:
                    async for raw in socket:
                        message = json.loads(raw)
                        if message.get("type") == "job_update":
                            seen.append(message)
                            if message["status"] in FINAL:
                                return seen
            except (OSError, websockets.ConnectionClosed, websockets.InvalidStatus):
                await asyncio.sleep(0.2)  # the daphne behind nginx went away: connect again
    return seen


def test_a_socket_through_nginx_sees_every_update_of_a_job_run_by_either_cluster(topology, user):
    for cluster in topology.clusters.values():
        cluster.start()
    token = token_via(topology)
    job_id = counting_task(user, items=20, delay=0.05)
    updates = asyncio.run(follow(topology.nginx.ws_url, token, job_id))
    seqs = [update["seq"] for update in updates]
    assert seqs == sorted(set(seqs)) and updates[-1]["status"] == "completed"
    answer = httpx.get(f"{topology.nginx.http_url}/api/background-tasks/task/{job_id}",
                       headers={"Authorization": f"Token {token}"}).json()
    assert answer == updates[-1]["task"]


def test_killing_the_daphne_a_socket_is_on_moves_it_to_the_other_with_a_fresh_snapshot(topology, user):
    topology.clusters["A"].start()
    token = token_via(topology)
    job_id = counting_task(user, items=40, delay=0.1)

    async def scenario():
        watcher = asyncio.create_task(follow(topology.nginx.ws_url, token, job_id))
        await asyncio.sleep(1.0)
        # Both daphnes may hold a socket of ours by now; kill the first, the client must carry on.
        topology.web[0].kill(signal.SIGKILL)
        return await watcher

    updates = asyncio.run(scenario())
    assert updates[-1]["status"] == "completed"
    assert updates[-1]["task"]["processed_items"] == 40


def test_a_cluster_killed_mid_job_is_reaped_by_the_surviving_side_with_one_notification(topology, user):
    topology.clusters["A"].start()
    job_id = counting_task(user, items=200, delay=0.1)
    wait_for(lambda: TaskInfo.objects.filter(pk=job_id, status=Status.RUNNING).exists(), timeout=20)
    topology.clusters["B"].start()
    topology.clusters["A"].kill(signal.SIGKILL)
    killed_at = time.monotonic()
    task = wait_for(lambda: TaskInfo.objects.filter(pk=job_id, status=Status.FAILED).first(),
                    timeout=REAPED_WITHIN + 10, message="the job to be reaped")
    elapsed = time.monotonic() - killed_at
    print(f"cluster killed -> final row in {elapsed:.2f} s")
    assert "Worker lost" in task.error
    assert elapsed <= REAPED_WITHIN, elapsed
    assert Notification.objects.filter(user=user, type="task_failed").count() == 1


def test_readyz_through_nginx_follows_whether_a_cluster_beats(topology):
    ready = f"{topology.nginx.http_url}/readyz"
    answer = httpx.get(ready, timeout=10)
    assert answer.status_code == 503 and answer.json()["checks"]["cluster"]["ok"] is False
    topology.clusters["B"].start()
    wait_for(lambda: httpx.get(ready, timeout=10).status_code == 200, timeout=30, message="/readyz to turn 200")


def test_an_idle_cluster_takes_queued_work_and_inherits_what_a_dead_one_held(topology, user):
    topology.clusters["A"].start()
    wait_for(lambda: httpx.get(f"{topology.nginx.http_url}/readyz", timeout=10).status_code == 200, timeout=30)
    jobs = [counting_task(user, items=30, delay=0.1) for _ in range(8)]
    topology.clusters["B"].start()
    wait_for(lambda: TaskInfo.objects.filter(pk__in=jobs, status=Status.RUNNING).count() >= 4, timeout=30,
             message="both clusters to run jobs")
    topology.clusters["A"].kill(signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: TaskInfo.objects.filter(pk__in=jobs).exclude(status__in=(Status.PENDING, Status.RUNNING))
             .count() == len(jobs), timeout=120, message="every job to end")
    rows = TaskInfo.objects.filter(pk__in=jobs)
    completed = rows.filter(status=Status.COMPLETED).count()
    lost = rows.filter(status=Status.FAILED, error__contains="Worker lost").count()
    assert completed + lost == len(jobs), list(rows.values_list("status", "error"))
    print(f"8 jobs, cluster A killed: {completed} completed, {lost} lost, all final "
          f"{time.monotonic() - killed_at:.1f} s after the kill")
    assert completed >= 4  # what A had not started yet ran on B, not after the queue lock expired
    assert time.monotonic() - killed_at < 90


def test_200_concurrent_requests_through_nginx_stay_within_the_connection_budget(topology, user):
    token = token_via(topology)
    url = f"{topology.nginx.http_url}/api/background-tasks/summary"
    peak = 0

    def connections_in_use() -> int:
        name = connection.settings_dict["NAME"]
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as admin:
            return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]

    def call(_):
        return httpx.get(url, headers={"Authorization": f"Token {token}"}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        futures = [pool.submit(call, n) for n in range(200)]
        while not all(future.done() for future in futures):
            peak = max(peak, connections_in_use())
            time.sleep(0.05)
        codes = [future.result() for future in futures]
    print(f"200 requests through nginx: codes {sorted(set(codes))}, peak PostgreSQL connections {peak}")
    assert [code for code in codes if code >= 500] == []
    assert set(codes) <= {200, 429}
    # The documented budget: per daphne, one connection per request in flight (no persistent
    # connections in web processes), capped by the thread pool; plus the test's own.
    assert peak <= 2 * 40 + 5, peak
