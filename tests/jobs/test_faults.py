"""Fault injection on real clusters: each fault ends the running job in a true final row, told once."""

import os
import signal
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone

from jobs.models import Status, TaskInfo
from tests.jobs.faults import outcome_notices, process_tree, record_timing, still_alive, wait_for_final_row
from tests.processes import ServerProcess, process_env, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]

LONG_JOB = {"kind": "counting", "total_items": 100_000, "params": {"items": 100_000, "delay": 0.01}}


class Cluster(ServerProcess):
    """`manage.py run_cluster`: the cluster that make run starts, with its bounded stop."""

    def __init__(self, **env_overrides):
        super().__init__([sys.executable, "manage.py", "run_cluster"], process_env(**env_overrides), "run_cluster")


def telltale(task_id) -> dict:
    """Return the pid and backend the telltale job reports as its current item, once it has."""
    current = TaskInfo.objects.values_list("current_item", flat=True).get(pk=task_id)
    return dict(part.split("=") for part in current.split()) if current.startswith("pid=") else {}


def progressed(task_id, items: int = 5) -> bool:
    return TaskInfo.objects.get(pk=task_id).processed_items >= items


def test_a_worker_killed_mid_job_is_failed_by_the_reaper_loop_while_its_cluster_runs(make_task):
    cluster = Cluster().start()
    reaper = ServerProcess([sys.executable, "manage.py", "reap_tasks", "--loop", "--interval", "0.5"],
                           process_env(STATUSMSG_STALE_AFTER=2), "reaper").start()
    try:
        task_id = make_task(kind="telltale", total_items=100_000, params={"items": 100_000, "delay": 0.01})
        worker_pid = int(wait_for(lambda: telltale(task_id).get("pid"), message="the worker's pid"))
        os.kill(worker_pid, signal.SIGKILL)
        killed = time.monotonic()
        task = wait_for_final_row(task_id, timeout=15)
        took = time.monotonic() - killed
    finally:
        reaper.stop()
        cluster.stop()
    assert task.status == Status.FAILED and task.error.startswith("Worker lost")
    assert outcome_notices(task_id) == ["task_failed"]
    record_timing("SIGKILL of the worker mid-job (STALE_AFTER 2 s, reap every 0.5 s)", took)


@pytest.mark.parametrize("to_group", [True, False], ids=["process-group", "main-process"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_cluster_told_to_stop_ends_its_job_failed_and_exits_leaving_no_process(make_task, signum, to_group):
    cluster = Cluster().start()
    try:
        task_id = make_task(**LONG_JOB)
        wait_for(lambda: progressed(task_id), message="progress")
        tree = process_tree(cluster.process.pid)
        (os.killpg if to_group else os.kill)(cluster.process.pid, signum)
        sent = time.monotonic()
        task = wait_for_final_row(task_id, timeout=10)
        row_after = time.monotonic() - sent
        cluster.process.wait(10)
        wait_for(lambda: not still_alive(tree), timeout=max(0.1, 10 - (time.monotonic() - sent)),
                 message="every cluster process to exit")
        gone_after = time.monotonic() - sent
    finally:
        cluster.stop()
    assert (task.status, task.error) == (Status.FAILED, "Worker stopped by signal")
    assert 0 < task.result["counted"] < 100_000 and task.processed_items == task.result["counted"]
    assert outcome_notices(task_id) == ["task_failed"]
    assert gone_after < 10
    where = "process group" if to_group else "main process"
    record_timing(f"{signal.Signals(signum).name} to the cluster's {where} mid-job", row_after,
                  cluster_gone_after=round(gone_after, 2))


def test_a_job_past_its_timeout_ends_failed_at_once_keeping_its_partial_result(make_task, settings):
    # The timeout the queue applies is set when the job is enqueued (here), the message's
    # figure where it runs (the cluster): both are 2 s.
    settings.STATUSMSG = {**settings.STATUSMSG, "TASK_TIMEOUT": 2}
    cluster = Cluster(STATUSMSG_TASK_TIMEOUT=2).start()
    try:
        # A job that keeps its partial result on JobCancelled only, as the article jobs do.
        task_id = make_task(**{**LONG_JOB, "kind": "cancellable"})
        task = wait_for_final_row(task_id, timeout=15)
        # django-q2 replaces the timed-out worker; the cluster goes on working.
        next_id = make_task(kind="counting", total_items=3, params={"items": 3})
        assert wait_for_final_row(next_id).status == Status.COMPLETED
    finally:
        cluster.stop()
    assert (task.status, task.error) == (Status.FAILED, "Timed out after 2 s")
    assert 0 < task.result["counted"] < 100_000
    assert outcome_notices(task_id) == ["task_failed"]
    late = (task.completed_at - task.started_at).total_seconds() - 2
    assert late < 1
    record_timing("job past its 2 s timeout (from started_at + 2 s to completed_at)", late)


def test_a_job_whose_connection_is_terminated_ends_failed_with_the_real_error(make_task):
    cluster = Cluster().start()
    try:
        task_id = make_task(kind="telltale", total_items=100_000, params={"items": 100_000, "delay": 0.01})
        backend = int(wait_for(lambda: telltale(task_id).get("backend"), message="the job's backend pid"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        terminated = time.monotonic()
        task = wait_for_final_row(task_id, timeout=10)
        took = time.monotonic() - terminated
    finally:
        cluster.stop()
    assert task.status == Status.FAILED
    assert task.error.startswith(("OperationalError", "InterfaceError")), task.error
    assert 0 < task.result["counted"] < 100_000
    assert outcome_notices(task_id) == ["task_failed"]
    record_timing("pg_terminate_backend of the job's connection", took)


def test_a_cluster_stopped_with_jobs_queued_behind_its_running_ones_leaves_them_pending_and_free(make_task):
    from django.utils import timezone
    from django_q.models import OrmQ

    cluster = Cluster().start()
    try:
        task_ids = [make_task(**LONG_JOB) for _ in range(15)]  # 3 run, the rest wait in the queue
        wait_for(lambda: TaskInfo.objects.filter(status=Status.RUNNING).count() == 3, message="3 running")
        wait_for(lambda: all(progressed(task_id, 1) for task_id in task_ids
                             if TaskInfo.objects.get(pk=task_id).status == Status.RUNNING), message="progress")
        tree = process_tree(cluster.process.pid)
        os.killpg(cluster.process.pid, signal.SIGTERM)
        sent = time.monotonic()
        cluster.process.wait(10)
        wait_for(lambda: not still_alive(tree), timeout=max(0.1, 10 - (time.monotonic() - sent)),
                 message="every cluster process to exit")
        gone_after = time.monotonic() - sent
    finally:
        cluster.stop()
    statuses = dict(TaskInfo.objects.filter(pk__in=task_ids).values_list("pk", "status"))
    assert sorted(statuses.values()).count(Status.FAILED) == 3
    assert sorted(statuses.values()).count(Status.PENDING) == 12
    # Every pending job can be taken by the next cluster at once, not an hour later.
    assert not OrmQ.objects.filter(lock__gt=timezone.now()).exists()
    assert OrmQ.objects.count() == 12
    record_timing("SIGTERM to a cluster's process group with 3 jobs running and 12 queued (cluster gone)", gone_after)


def test_a_stopped_job_that_reports_no_progress_ends_within_the_grace(make_task):
    cluster = Cluster().start()
    try:
        task_id = make_task(kind="silent", params={"seconds": 60})
        wait_for(lambda: TaskInfo.objects.get(pk=task_id).status == Status.RUNNING, message="running")
        os.kill(cluster.process.pid, signal.SIGTERM)
        sent = time.monotonic()
        task = wait_for_final_row(task_id, timeout=10)
        took = time.monotonic() - sent
        cluster.process.wait(10)
    finally:
        cluster.stop()
    assert (task.status, task.error) == (Status.FAILED, "Worker stopped by signal")
    assert took < 2 + 1  # STOP_GRACE, and the time to write the row
    assert outcome_notices(task_id) == ["task_failed"]
    record_timing("SIGTERM to the cluster's main process, job silent for 60 s (the 2 s grace)", took)


def test_a_job_lost_while_every_cluster_was_down_is_failed_as_the_next_cluster_starts(make_task):
    from datetime import timedelta

    from django.utils import timezone

    from jobs import lifecycle

    task_id = make_task(kind="counting", total_items=10, params={"items": 10})
    lifecycle.start_task(task_id)  # as a worker would have, before its whole cluster died
    TaskInfo.objects.filter(pk=task_id).update(heartbeat_at=timezone.now() - timedelta(seconds=30))
    cluster = Cluster(STATUSMSG_STALE_AFTER=20).start()
    started = time.monotonic()
    try:
        task = wait_for_final_row(task_id, timeout=15)
        took = time.monotonic() - started
    finally:
        cluster.stop()
    assert task.status == Status.FAILED and task.error.startswith("Worker lost")
    assert outcome_notices(task_id) == ["task_failed"]
    record_timing("job lost while no cluster ran, reaped as run_cluster starts (from its start)", took)


def test_django_q2s_own_qcluster_sent_sigterm_by_its_supervisor_ends_its_job_and_exits(make_task):
    # systemd's KillMode=mixed (deploy/systemd/statusmsg-worker@.service) signals the main process
    # only; the busy worker hears of it through its cluster's stop event (jobs.stopping.ClusterWatch).
    from tests.processes import Qcluster

    cluster = Qcluster().start()
    try:
        task_id = make_task(**{**LONG_JOB, "kind": "cancellable"})
        wait_for(lambda: progressed(task_id), message="progress")
        tree = process_tree(cluster.process.pid)
        os.kill(cluster.process.pid, signal.SIGTERM)
        sent = time.monotonic()
        task = wait_for_final_row(task_id, timeout=10)
        row_after = time.monotonic() - sent
        cluster.process.wait(10)
        wait_for(lambda: not still_alive(tree), timeout=5, message="every cluster process to exit")
        gone_after = time.monotonic() - sent
    finally:
        cluster.stop()
    assert (task.status, task.error) == (Status.FAILED, "Worker stopped by signal")
    assert 0 < task.result["counted"] < 100_000
    assert outcome_notices(task_id) == ["task_failed"]
    record_timing("SIGTERM to django-q2's own qcluster main process mid-job", row_after,
                  cluster_gone_after=round(gone_after, 2))


def test_a_heartbeat_whose_connection_is_terminated_reconnects_and_the_job_completes(make_task):
    cluster = Cluster().start()
    try:
        task_id = make_task(kind="silent", params={"seconds": 3})  # only the heartbeat writes meanwhile
        wait_for(lambda: TaskInfo.objects.get(pk=task_id).status == Status.RUNNING, message="running")
        time.sleep(0.5)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query LIKE %s AND query NOT LIKE %s",
                ['UPDATE "jobs_taskinfo" SET "heartbeat_at" = %', '%"processed_items" = %'])  # a beat, no progress
            assert cursor.fetchall() == [(True,)]  # the heartbeat's connection, and only it
        terminated = timezone.now()
        wait_for(lambda: TaskInfo.objects.get(pk=task_id).heartbeat_at > terminated, timeout=5,
                 message="a heartbeat on a new connection")
        beat_again_after = (TaskInfo.objects.get(pk=task_id).heartbeat_at - terminated).total_seconds()
        task = wait_for_final_row(task_id, timeout=10)
    finally:
        cluster.stop()
    assert task.status == Status.COMPLETED
    assert outcome_notices(task_id) == ["task_complete"]
    record_timing("pg_terminate_backend of the heartbeat's connection (to its next beat)", beat_again_after)
