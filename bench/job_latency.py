"""Job start latency: create → running and create → completed, p50/p90, for the ORM and the Redis broker.

For each broker configuration a django-q2 cluster is started under its settings module and
no-op jobs are created one at a time (each after the last has completed, then a random
0-50 ms pause, so creation is not in step with the broker's poll). The latencies come
from the row: started_at - created_at and completed_at - created_at (one machine, one
clock). Beside them, enqueue → completed for a bare django-q2 async_task (Task.stopped), the
broker's own floor. Configurations:
  orm         statusmsg.settings as shipped (ORM broker, its poll interval)
  orm-poll    the ORM broker polling every --poll seconds (bench/settings_orm_poll.py)
  redis       django-q2's Redis broker (bench/settings_redis_broker.py)
Targets: p50 <= 120 ms with the ORM broker, <= 15 ms with the Redis broker.

Run: .venv/bin/python bench/job_latency.py [--samples 40] [--poll 0.05] [--configs orm,orm-poll,redis]
(database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/statusmsg_bench_jobs;
Redis at REDIS_URL, default redis://127.0.0.1:6379/1)
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time

from _cluster import Cluster, wait_until
from _setup import setup

NOOP_KIND = "bench_noop"
CONFIGS = {
    "orm": "statusmsg.settings",
    "orm-poll": "bench.settings_orm_poll",
    "redis": "bench.settings_redis_broker",
}
TARGETS = {"orm": 120, "orm-poll": 120, "redis": 15}
ENV = {
    "STATUSMSG_EXTRA_JOB_KINDS": f"{NOOP_KIND}=bench.jobfuncs.noop_job",
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    "CHANNEL_PREFIX": f"benchlat{os.getpid()}",
    "BENCH_Q_NAME": f"statusmsg_bench_{os.getpid()}",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(samples: int) -> dict:
    """In a child process whose settings name the broker: return the latencies in ms."""
    import psycopg
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_q.tasks import async_task

    from jobs.lifecycle import create_task

    database = psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True)

    def row(sql: str, params):
        return database.execute(sql, params).fetchone()

    owner, _ = get_user_model().objects.get_or_create(username="bench-jobs")
    cluster = Cluster({**ENV, "DATABASE_URL": os.environ["DATABASE_URL"]}, os.environ["DJANGO_SETTINGS_MODULE"],
                      name="job-latency")
    results: dict[str, list[float]] = {"running": [], "completed": [], "bare completed": []}
    try:
        for index in range(samples + 3):  # the first 3 warm up (and wait for the cluster)
            task_id = create_task("bench latency", kind=NOOP_KIND, owner=owner)
            created, started, completed = wait_until(
                lambda task_id=task_id: row(
                    "SELECT created_at, started_at, completed_at FROM jobs_taskinfo WHERE id = %s AND status = %s",
                    [task_id, "completed"]), timeout=60, interval=0.002, message="a pipeline job")
            time.sleep(random.uniform(0, 0.05))
            enqueued = timezone.now()
            queue_id = async_task("bench.jobfuncs.bare_noop")
            # django-q2 stamps `started` at enqueue, so only `stopped` tells the broker's latency.
            (bare_stopped,) = wait_until(
                lambda queue_id=queue_id: row("SELECT stopped FROM django_q_task WHERE id = %s", [queue_id]),
                timeout=60, interval=0.002, message="a bare job")
            time.sleep(random.uniform(0, 0.05))
            if index >= 3:
                results["running"].append((started - created).total_seconds() * 1000)
                results["completed"].append((completed - created).total_seconds() * 1000)
                results["bare completed"].append((bare_stopped - enqueued).total_seconds() * 1000)
    finally:
        cluster.stop()
        database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--poll", type=float, default=0.05, help="the orm-poll configuration's interval (s)")
    parser.add_argument("--configs", default="orm,orm-poll,redis")
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENV)
    os.environ["BENCH_Q_POLL"] = str(args.poll)
    if args.child:
        os.environ["DJANGO_SETTINGS_MODULE"] = CONFIGS[args.child]
        setup("statusmsg_bench_jobs")
        print(json.dumps(measure(args.samples)))
        return

    setup("statusmsg_bench_jobs")  # create and migrate once, before the children
    from django.conf import settings

    print(f"{args.samples} samples per configuration; shipped ORM poll {settings.Q_CLUSTER['poll']}s, "
          f"orm-poll {args.poll}s; workers={settings.Q_CLUSTER['workers']}")
    for config in args.configs.split(","):
        child = subprocess.run([sys.executable, __file__, "--child", config, "--samples", str(args.samples),
                                "--poll", str(args.poll)], capture_output=True, text=True, timeout=600)
        if child.returncode:
            print(f"{config}: failed\n{child.stderr[-2000:]}")
            continue
        results = json.loads(child.stdout.strip().splitlines()[-1])
        target = TARGETS[config]
        figures = "   ".join(f"{name} p50 {percentile(values, 0.5):6.1f} p90 {percentile(values, 0.9):6.1f}"
                               for name, values in results.items())
        verdicts = ", ".join(f"{name} {'met' if percentile(results[name], 0.5) <= target else 'missed'}"
                             for name in ("running", "completed"))
        print(f"{config:9s} ms: {figures}   target p50 <= {target} ms: {verdicts}", flush=True)


if __name__ == "__main__":
    main()
