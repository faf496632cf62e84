"""A cancel racing a job's completion, on a real cluster: an accepted cancel never ends `completed`."""

import random
import sys
import time
from collections import Counter

import pytest

from jobs import lifecycle
from jobs.exceptions import TaskAlreadyFinished
from jobs.models import Status, TaskInfo
from tests.jobs.faults import outcome_notices, record_timing, wait_for_final_row
from tests.processes import ServerProcess, process_env, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

RACES = 30
# Half the jobs never report progress (a cancel can only meet them as they return), half
# report every 40 ms (a cancel may meet them at a report, or as they return).
JOBS = [{"kind": "silent", "params": {"seconds": 0.2}},
        {"kind": "counting", "total_items": 5, "params": {"items": 5, "delay": 0.04}}]


def test_a_cancel_accepted_while_a_job_returns_never_ends_completed(make_task, user):
    cluster = ServerProcess([sys.executable, "manage.py", "run_cluster"], process_env(), "run_cluster").start()
    rng = random.Random(9)
    outcomes = []
    try:
        for race in range(RACES):
            job = JOBS[race % 2]
            task_id = make_task(**job)
            wait_for(lambda task_id=task_id: TaskInfo.objects.filter(pk=task_id).exclude(status=Status.PENDING)
                     .exists(), interval=0.002, message="the job to start")
            time.sleep(rng.uniform(0.15, 0.30))  # around the moment the job returns
            try:
                lifecycle.cancel_task(task_id, by=user)
                accepted, answered = True, time.monotonic()
            except TaskAlreadyFinished:
                accepted, answered = False, time.monotonic()
            task = wait_for_final_row(task_id, timeout=10)
            outcomes.append((job["kind"], accepted, task.status, time.monotonic() - answered, outcome_notices(task_id)))
    finally:
        cluster.stop()
    for kind, accepted, status, _, notices in outcomes:
        assert status == (Status.CANCELLED if accepted else Status.COMPLETED), (kind, accepted, status)
        assert len(notices) == 1 and notices[0] == ("task_cancelled" if accepted else "task_complete")
    tally = Counter((kind, "accepted" if accepted else "refused", status) for kind, accepted, status, _, _ in outcomes)
    assert any(accepted for _, accepted, _, _, _ in outcomes), tally
    slowest = max(took for _, accepted, _, took, _ in outcomes if accepted)
    record_timing(f"cancel racing completion, {RACES} races (slowest accepted cancel to final row)", slowest,
                  outcomes={" ".join(key): count for key, count in tally.items()})
