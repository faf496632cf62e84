"""A bulk analysis through a real qcluster, watched over a real socket from daphne to completed."""

import json

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from websockets.sync.client import connect

from articles.models import Article
from jobs.models import Status, TaskInfo
from tests.processes import Qcluster

from .sites import SOLAR_TITLE

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def analysis_cluster(transactional_db, site_server):
    """A qcluster whose fetcher lets the local test site through."""
    cluster = Qcluster(STATUSMSG_FETCH_ALLOW_HOSTS=f"{site_server.host}:{site_server.port}",
                       STATUSMSG_ANALYSIS_ITEM_TIMEOUT="2").start()
    yield cluster
    cluster.stop()


def test_bulk_analysis_runs_in_a_real_cluster_and_the_socket_sees_it_complete(
        analysis_cluster, daphne, site_server, user):
    base = f"http://{site_server.host}:{site_server.port}"
    urls = [f"{base}/articles/solar.html", f"{base}/articles/slow.html", f"{base}/articles/missing.html"]
    urls += [f"{base}/many/{n}.html" for n in range(6)]
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/background-tasks/bulk-analysis",
                           {"urls": urls, "topic": "solar energy", "batch_size": 3}, format="json")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    token = Token.objects.create(user=user).key
    connection.close()  # the test's connection must not hold anything the processes wait on

    messages = []
    with connect(f"{daphne.ws_url}/ws/bulk-process/{task_id}", additional_headers={"Authorization": f"Token {token}"},
                 open_timeout=10) as socket:
        while True:
            message = json.loads(socket.recv(timeout=60))
            messages.append(message)
            if message.get("type") == "job_update" and message["task"]["status"] in ("completed", "failed",
                                                                                      "cancelled"):
                break

    final = messages[-1]
    assert final["status"] == "completed", (final, analysis_cluster.log()[-3000:])
    result = final["task"]["result"]
    assert result["analyzed"] == 7 and result["failed"] == 2 and result["skipped"] == 0
    reasons = {e["url"]: e["error"] for e in result["errors"]}
    assert reasons == {urls[1]: "timed out after 2s", urls[2]: "HTTP 404 NOT FOUND"}

    updates = [m for m in messages if m.get("type") == "job_update"]
    seqs = [m["seq"] for m in updates]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # newer only, never a repeat
    if len(updates) > 1:  # connected before the end: the socket saw the job move
        assert any(m["status"] in ("progress", "batch_update") for m in updates)

    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.COMPLETED and task.processed_items == 9 and task.progress == 100.0
    assert [b["batch_completed"] for b in task.metadata["batches"]] == [1, 2, 3]
    assert Article.objects.get(url=urls[0]).title == SOLAR_TITLE
    assert Article.objects.filter(url__in=urls).count() == 7
