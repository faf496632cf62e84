"""Ctrl-C of `make run` (statusmsg.run) with a job running: the row ends final, no process is left."""

import os
import signal
import subprocess
import sys
import time

import pytest

from jobs.models import Status, TaskInfo
from tests.jobs.faults import outcome_notices, process_tree, record_timing, still_alive, wait_for_final_row
from tests.processes import BASE_DIR, free_port, process_env, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def make_run(tmp_path):
    """`python -m statusmsg.run` on the test database and Redis, in its own session like a terminal's job."""
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen([sys.executable, "-m", "statusmsg.run"], cwd=BASE_DIR, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               env=process_env(PORT=free_port(), STATUSMSG_ADMIN_PASSWORD="not-used-here"))
        run.log = lambda: log_path.read_text(errors="replace")
        run.tree = []  # its processes, as a test saw them last
        try:
            wait_for(lambda: "statusmsg is up" in run.log() or run.poll() is not None, timeout=60,
                     message="make run to come up")
            if "already running from this checkout" in run.log():
                pytest.skip("a make run of this checkout is running (var/run.lock)")
            assert run.poll() is None, run.log()
            yield run
        finally:
            # Whatever the test left: its children have sessions of their own, so one by one.
            leftovers = still_alive([*run.tree, *(process_tree(run.pid) if run.poll() is None else [])])
            for process in leftovers:
                process.kill()
            run.wait(5)


def test_ctrl_c_of_make_run_ends_the_running_job_and_leaves_no_process(make_run, make_task):
    task_id = make_task(kind="counting", total_items=100_000, params={"items": 100_000, "delay": 0.01})
    wait_for(lambda: TaskInfo.objects.get(pk=task_id).processed_items >= 5, timeout=30, message="progress")
    make_run.tree.extend(process_tree(make_run.pid))
    assert len(make_run.tree) >= 1 + 3 + 4  # run, daphne, cluster, reaper; sentinel, pusher, monitor, workers
    os.killpg(make_run.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
    pressed, pressed_at = time.monotonic(), time.time()
    make_run.wait(10)
    exited_after = time.monotonic() - pressed
    task = wait_for_final_row(task_id, timeout=0.5)  # already final when make run has exited
    assert not still_alive(make_run.tree), make_run.log()
    assert (task.status, task.error) == (Status.FAILED, "Worker stopped by signal")
    assert 0 < task.result["counted"] < 100_000
    assert outcome_notices(task_id) == ["task_failed"]
    assert "Waiting for daphne" in make_run.log() and "did not stop" not in make_run.log()
    record_timing("Ctrl-C of make run mid-job (to the final row)", task.completed_at.timestamp() - pressed_at,
                  make_run_exited_after=round(exited_after, 2))


def test_a_second_make_run_in_the_same_checkout_is_refused_before_it_touches_anything(make_run):
    second = subprocess.run([sys.executable, "-m", "statusmsg.run"], cwd=BASE_DIR, capture_output=True, text=True,
                            env=process_env(PORT=free_port()), timeout=30)
    assert second.returncode == 1
    assert second.stderr.strip().endswith("stop it first.") and str(make_run.pid) in second.stderr
    assert "Waiting for" not in second.stdout  # nothing was started, so nothing was stopped
