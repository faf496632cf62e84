"""Task groups on real clusters: chunks spread over two clusters, one lost, a cancel, twenty writing at once.

Each test runs a bulk analysis (or the gated test kind) big enough to split, against a local
site that answers every page after PAGE_DELAY, so the group is truly mid-run when a test kills
a cluster or cancels it. Which cluster ran which chunk comes from each cluster's own log, where
django-q2 names the worker (and its pid) that took each queued job.
"""

import signal
import sys
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from articles.models import Article
from jobs import lifecycle
from jobs.models import Status, TaskInfo
from notifications.models import Notification
from tests.jobs.faults import FINAL, outcome_notices, record_timing, wait_for_final_row
from tests.processes import Qcluster, ServerProcess, process_env, wait_for
from tests.settings import TEST_JOB_KINDS

from .group_runs import (
    GATED_JOB,
    GATED_KIND,
    PacedSite,
    SocketFollower,
    chunks_run_by,
    cluster_is_running,
    worker_pids,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

PAGE_DELAY = 0.04  # seconds the local site takes per page
URLS = 300
# The reaper's figures for the lost-cluster test: a chunk without a beat for 2 s is run again.
STALE_AFTER = 2
HEARTBEAT_INTERVAL = 0.25
CANCEL_BOUND = 2.0  # seconds from the cancel to every chunk final (issue 12, item 9)


@pytest.fixture(scope="module")
def paced_site():
    site = PacedSite(PAGE_DELAY).start()
    yield site
    site.stop()


@pytest.fixture
def group_settings(settings, paced_site):
    """Split at 50 (create_task runs in this process), let the fetcher reach the site, know the gated kind."""
    settings.STATUSMSG = {
        **settings.STATUSMSG,
        "CHUNK_SIZE": 50,
        "FETCH_ALLOW_HOSTS": paced_site.host_port,
        "EXTRA_JOB_KINDS": f"{TEST_JOB_KINDS},{GATED_JOB}",
    }
    return settings


@pytest.fixture
def start_clusters(group_settings, paced_site):
    """Start clusters (env overrides as keywords), wait until each runs; stop them all at the end."""
    started: list[ServerProcess] = []

    def start(count: int = 2, workers: int = 3, **env) -> list[Qcluster]:
        clusters = [Qcluster(STATUSMSG_MAX_CONCURRENT_TASKS=workers,
                             STATUSMSG_FETCH_ALLOW_HOSTS=paced_site.host_port,
                             STATUSMSG_CHUNK_SIZE=group_settings.STATUSMSG["CHUNK_SIZE"],
                             # A loaded machine must not fail a page: these tests are about the group.
                             STATUSMSG_ANALYSIS_ITEM_TIMEOUT=30, **env).start() for _ in range(count)]
        started.extend(clusters)
        for cluster in clusters:
            wait_for(lambda cluster=cluster: cluster_is_running(cluster.log()), timeout=60,
                     message=f"cluster to run:\n{cluster.log()[-2000:]}")
        return clusters

    def start_reaper(**env) -> ServerProcess:
        reaper = ServerProcess([sys.executable, "manage.py", "reap_tasks", "--loop", "--interval", "0.5"],
                               process_env(**env), "reaper").start()
        started.append(reaper)
        return reaper

    start.reaper = start_reaper
    yield start
    for process in started:
        process.stop()


def start_analysis(api, urls: list[str], **options) -> str:
    response = api.post("/api/background-tasks/bulk-analysis",
                        {"urls": urls, "topic": "solar energy", "force": True, **options}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["task_id"]


def chunks_of(parent_id) -> list[TaskInfo]:
    return list(TaskInfo.objects.filter(parent_id=parent_id).order_by("chunk_index"))


def running_chunks(parent_id, processed_at_least: int = 1) -> list[TaskInfo]:
    return list(TaskInfo.objects.filter(parent_id=parent_id, status=Status.RUNNING,
                                        processed_items__gte=processed_at_least))


def test_a_group_runs_on_two_clusters_and_its_follower_hears_the_parent_only_ending_last(
        start_clusters, paced_site, daphne, api, user):
    first, second = start_clusters(2)
    token = Token.objects.create(user=user).key
    parent_id = start_analysis(api, paced_site.urls(URLS, "two-clusters"))
    follower = SocketFollower(daphne.ws_url, parent_id, token)
    follower.start()
    connection.close()  # hold nothing the processes wait on
    parent = wait_for_final_row(parent_id, timeout=120)
    follower.join(30)

    assert parent.status == Status.COMPLETED, (parent.error, first.log()[-3000:], second.log()[-3000:])
    assert (parent.processed_items, parent.total_items, parent.progress) == (URLS, URLS, 100.0)
    assert (parent.result["analyzed"], parent.result["failed"]) == (URLS, 0)
    chunks = chunks_of(parent_id)
    assert len(chunks) == URLS // 50 and {chunk.status for chunk in chunks} == {Status.COMPLETED}
    # Both clusters ran chunks, each on its own workers, and every chunk ran on one of them.
    ran_first, ran_second = chunks_run_by(first.log()), chunks_run_by(second.log())
    chunk_ids = {str(chunk.pk) for chunk in chunks}
    assert ran_first and ran_second, (ran_first, ran_second)
    assert set(ran_first) | set(ran_second) == chunk_ids and not set(ran_first) & set(ran_second)
    assert set(ran_first.values()) <= worker_pids(first.log())
    assert set(ran_second.values()) <= worker_pids(second.log())
    assert not worker_pids(first.log()) & worker_pids(second.log())
    # One notification, for the group; none for its chunks.
    assert outcome_notices(parent_id) == ["task_complete"]
    assert Notification.objects.count() == 1

    assert follower.error is None, follower.error
    updates = follower.job_updates()
    assert {update["job_id"] for update in updates} == {parent_id}  # never a chunk's message
    last = updates[-1]
    assert follower.messages[-1] is last
    assert (last["task"]["status"], last["seq"]) == (Status.COMPLETED, parent.seq)
    assert last["task"]["processed_items"] == URLS and last["task"]["children"]["completed"] == len(chunks)
    seqs = [update["seq"] for update in updates]
    assert seqs == sorted(set(seqs))
    assert any(update["task"]["status"] == Status.RUNNING for update in updates[:-1])  # it followed the run
    print(f"\n[groups] two clusters: {len(ran_first)} + {len(ran_second)} chunks, "
          f"{len(updates)} parent updates on the socket, "
          f"{(parent.completed_at - parent.created_at).total_seconds():.2f} s from creation to the end")


def test_the_chunks_of_a_killed_cluster_run_again_on_the_other_and_the_group_ends_true(
        start_clusters, paced_site, api):
    beats = {"STATUSMSG_STALE_AFTER": STALE_AFTER, "STATUSMSG_HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL}
    doomed, survivor = start_clusters(2, **beats)
    start_clusters.reaper(**beats)
    # One fetch at a time: a chunk of 50 then takes seconds, and the kill lands in its middle.
    parent_id = start_analysis(api, paced_site.urls(URLS, "killed"), max_concurrent=1)

    def doomed_chunks_under_way() -> list[TaskInfo]:
        taken = chunks_run_by(doomed.log())
        return [chunk for chunk in running_chunks(parent_id, processed_at_least=5) if str(chunk.pk) in taken]

    under_way = wait_for(doomed_chunks_under_way, timeout=60, interval=0.02, message="the doomed cluster's chunks")
    doomed.kill(signal.SIGKILL)  # the whole process group: no worker writes anything more
    killed = time.monotonic()
    lost = [chunk for chunk in running_chunks(parent_id, processed_at_least=0)
            if str(chunk.pk) in chunks_run_by(doomed.log())]
    assert {chunk.pk for chunk in under_way} <= {chunk.pk for chunk in lost}
    parent = wait_for_final_row(parent_id, timeout=120)
    took = time.monotonic() - killed

    assert parent.status == Status.COMPLETED, (parent.error, survivor.log()[-3000:])
    assert (parent.processed_items, parent.progress) == (URLS, 100.0)
    assert (parent.result["analyzed"], parent.result["failed"]) == (URLS, 0), parent.result["errors"][:3]
    rerun_by_survivor = chunks_run_by(survivor.log())
    for chunk in lost:
        chunk.refresh_from_db()
        assert (chunk.status, chunk.attempt, chunk.processed_items) == (Status.COMPLETED, 2, 50), chunk.error
        assert chunk.error == "" or chunk.error.startswith("Running again after: Worker lost")
        assert chunk.result["analyzed"] == 50  # every one of its items, analyzed on the second run
        assert Article.objects.filter(url__in=chunk.params["urls"], topic="solar energy").count() == 50
        assert str(chunk.pk) in rerun_by_survivor
    assert outcome_notices(parent_id) == ["task_complete"]
    assert Notification.objects.count() == 1
    record_timing("SIGKILL of one of two clusters mid-group (STALE_AFTER 2 s, reap every 0.5 s): kill to the "
                  "group's ending", took, chunks_run_again=len(lost))


def test_the_chunks_of_a_cluster_stopped_by_sigterm_run_again_on_the_other_at_once(start_clusters, paced_site, api):
    stopped, survivor = start_clusters(2)  # no reaper: a stopped worker hands its chunk back itself
    parent_id = start_analysis(api, paced_site.urls(URLS, "deployed"), max_concurrent=1)

    def stopped_chunks_under_way() -> list[TaskInfo]:
        taken = chunks_run_by(stopped.log())
        return [chunk for chunk in running_chunks(parent_id, processed_at_least=5) if str(chunk.pk) in taken]

    under_way = wait_for(stopped_chunks_under_way, timeout=60, interval=0.02, message="the stopped cluster's chunks")
    stopped.kill(signal.SIGTERM)  # a deploy: the whole group told to stop
    parent = wait_for_final_row(parent_id, timeout=120)

    assert parent.status == Status.COMPLETED, (parent.error, survivor.log()[-3000:])
    assert (parent.processed_items, parent.result["analyzed"], parent.result["failed"]) == (URLS, URLS, 0)
    rerun_by_survivor = chunks_run_by(survivor.log())
    for chunk in under_way:
        chunk.refresh_from_db()
        assert (chunk.status, chunk.attempt, chunk.result["analyzed"]) == (Status.COMPLETED, 2, 50), chunk.error
        assert str(chunk.pk) in rerun_by_survivor
    assert outcome_notices(parent_id) == ["task_complete"]
    assert Notification.objects.count() == 1


def test_a_cancelled_group_has_every_chunk_final_within_two_seconds_and_tells_once(
        start_clusters, paced_site, api, group_settings):
    group_settings.STATUSMSG = {**group_settings.STATUSMSG, "CHUNK_SIZE": 25}  # 12 chunks: some wait their turn
    start_clusters(2)
    parent_id = start_analysis(api, paced_site.urls(URLS, "cancelled"), max_concurrent=1)
    wait_for(lambda: len(running_chunks(parent_id, processed_at_least=3)) >= 3, timeout=60, interval=0.02,
             message="chunks under way")
    connection.close()
    response = api.delete(f"/api/background-tasks/task/{parent_id}")
    requested = time.monotonic()
    assert response.status_code == 200, response.content
    wait_for(lambda: not TaskInfo.objects.filter(parent_id=parent_id).exclude(status__in=FINAL).exists(),
             timeout=30, interval=0.01, message="every chunk final")
    all_final_after = time.monotonic() - requested
    parent = wait_for_final_row(parent_id, timeout=10)
    parent_after = time.monotonic() - requested

    chunks = chunks_of(parent_id)
    assert parent.status == Status.CANCELLED
    assert {chunk.status for chunk in chunks} <= {Status.CANCELLED, Status.COMPLETED}
    stopped_running = [chunk for chunk in chunks if chunk.status == Status.CANCELLED and chunk.started_at]
    never_started = [chunk for chunk in chunks if chunk.status == Status.CANCELLED and not chunk.started_at]
    assert stopped_running and never_started, [(chunk.status, chunk.started_at) for chunk in chunks]
    assert all(0 < chunk.processed_items < 25 for chunk in stopped_running)
    assert parent.processed_items == sum(chunk.processed_items for chunk in chunks) < URLS
    assert parent.result["not_processed"] == URLS - parent.processed_items
    assert outcome_notices(parent_id) == ["task_cancelled"]
    assert Notification.objects.count() == 1
    record_timing("cancel of a running group (2 clusters): cancel to every chunk final", all_final_after,
                  chunks=len(chunks), stopped_running=len(stopped_running), parent_final_after=round(parent_after, 3))
    assert all_final_after < CANCEL_BOUND


def test_twenty_chunks_writing_at_once_add_up_exactly_on_the_parent(start_clusters, group_settings, tmp_path, user):
    group_settings.STATUSMSG = {**group_settings.STATUSMSG, "CHUNK_SIZE": 15}  # 300 items: 20 chunks
    first, second = start_clusters(2, workers=10)
    gate = tmp_path / "gate"
    items = [f"item-{n}" for n in range(URLS)]
    parent_id = lifecycle.create_task("Twenty at once", total_items=URLS, owner=user, kind=GATED_KIND,
                                      params={"items": items, "delay": 0.01, "gate": str(gate)})
    connection.close()

    def at_the_gate() -> dict | None:
        """Return the group as one statement reads it once every started chunk waits at the gate, or None."""
        group = _group_snapshot(parent_id)
        # A cluster may hold a chunk it took but has not started while its ten workers wait at the gate.
        if group["at_gate"] + group["pending"] == group["chunks"] == 20 and group["at_gate"] >= 18:
            return group
        return None

    group = wait_for(at_the_gate, timeout=90, interval=0.05, message="every chunk at the gate")
    # Up to twenty chunks wrote at once, and nothing has recounted the parent yet (no chunk ended):
    # its count is their added deltas alone, read in the same statement as the chunks' own counts.
    assert group["parent_processed"] == group["chunks_processed"] == 15 * group["at_gate"], group
    gate.touch()
    parent = wait_for_final_row(parent_id, timeout=90)

    chunks = chunks_of(parent_id)
    assert parent.status == Status.COMPLETED and {chunk.status for chunk in chunks} == {Status.COMPLETED}
    assert parent.processed_items == sum(chunk.processed_items for chunk in chunks) == URLS
    assert parent.result["counted"] == URLS
    ran_first, ran_second = chunks_run_by(first.log()), chunks_run_by(second.log())
    assert ran_first and ran_second and len(ran_first) + len(ran_second) == len(chunks) == 20
    print(f"\n[groups] {group['at_gate']} of 20 chunks wrote at once; the parent's {group['parent_processed']} "
          "== the chunks' sum at the gate")


def _group_snapshot(parent_id) -> dict:
    """Return the parent's processed_items and its chunks' counts as one statement (one snapshot) reads them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT processed_items FROM jobs_taskinfo WHERE id = %(parent)s), "
            "COALESCE(SUM(processed_items), 0), COUNT(*), "
            "COUNT(*) FILTER (WHERE status = 'running' AND processed_items = total_items), "
            "COUNT(*) FILTER (WHERE status = 'pending') "
            "FROM jobs_taskinfo WHERE parent_id = %(parent)s",
            {"parent": parent_id})
        parent_processed, chunks_processed, chunks, at_gate, pending = cursor.fetchone()
    return {"parent_processed": parent_processed, "chunks_processed": chunks_processed, "chunks": chunks,
            "at_gate": at_gate, "pending": pending}
