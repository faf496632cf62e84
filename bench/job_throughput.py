"""Job throughput: no-op jobs through create_task → qcluster → run_task → finish_task, beside bare async_task.

One django-q2 cluster (statusmsg.settings: ORM broker, MAX_CONCURRENT_TASKS workers) on
its own PostgreSQL database runs, in alternating rounds, N no-op jobs of the project's
pipeline (kind bench_noop, owned by a user, so each also gets its outcome notification)
and N bare django-q2 `async_task` no-ops. A round is timed from the first enqueue to the
moment every job's final row is there (the TaskInfo row completed; for bare jobs django-q2's
success row). django-q2's result table is emptied before each round, so no round pays its
save_limit pruning and the others not. Every statement any process sends through Django is
counted (bench/_sqlcount.py), so the SQL statements per job are printed beside the rates,
and so is the CPU time per job of the cluster's processes (its workers, monitor and pusher
apart), this (enqueueing) process and the PostgreSQL backends: a figure other load on the
machine disturbs far less than rates. Both are read once the round's queue has drained, so
they include the monitor's saving and acknowledging of every job of the round.
Target: pipeline >= 0.9x bare.

Run: .venv/bin/python bench/job_throughput.py [--jobs 300] [--rounds 3]
(database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/statusmsg_bench_jobs;
Redis for the pushes at REDIS_URL, default redis://127.0.0.1:6379/1)
"""

import argparse
import os
import resource
import statistics
import time
import uuid

from _cluster import BENCH_DIR, Cluster, wait_until
from _setup import setup
from _sqlcount import create, install, totals

NOOP_KIND = "bench_noop"
ENV = {
    "STATUSMSG_EXTRA_JOB_KINDS": f"{NOOP_KIND}=bench.jobfuncs.noop_job",
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    "CHANNEL_PREFIX": f"benchjobs{os.getpid()}",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}


_raw = {}
CLUSTER_PARTS = ("worker", "monitor", "pusher", "cluster rest")


def raw_count(sql: str, params) -> int:
    """Count through a psycopg connection of our own, so the waiting is not in the statement counts."""
    import psycopg

    if "connection" not in _raw:
        _raw["connection"] = psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"),
                                             autocommit=True)
    return _raw["connection"].execute(sql, params).fetchone()[0]


def cpu_seconds(cluster_pid: int) -> dict[str, dict[int, float]]:
    """Return the CPU seconds used so far, per process: the cluster's by role, this one, and PostgreSQL's.

    CPU per job is what the machine's other load disturbs least: a busy neighbour slows the
    rounds' wall clock, far less the work each job costs. The cluster's processes are told
    apart by the names bench/_cluster.py gives them (q-worker, q-pusher, q-monitor; the rest
    is the qcluster main process and its sentinel). The PostgreSQL figure is the backends
    serving this database (the bench's own waiting connection excluded).
    """
    tick = os.sysconf("SC_CLK_TCK")

    def stat_of(pid: int) -> tuple[str, list[str]] | None:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, fields = stat.read().split("(", 1)[1].rsplit(")", 1)
                return name, fields.split()
        except (FileNotFoundError, ProcessLookupError):
            return None

    def seconds(fields: list[str]) -> float:
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    used: dict[str, dict[int, float]] = {part: {} for part in CLUSTER_PARTS}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        found = stat_of(int(entry))
        if found is not None and int(found[1][2]) == cluster_pid:  # its process group
            name, fields = found
            part = name.removeprefix("q-") if name.startswith("q-") else "cluster rest"
            used.setdefault(part, {})[int(entry)] = seconds(fields)
    raw_count("SELECT 1", [])
    backends = _raw["connection"].execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    used["postgres"] = {pid: seconds(found[1]) for (pid,) in backends if (found := stat_of(pid)) is not None}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used["enqueuer"] = {os.getpid(): usage.ru_utime + usage.ru_stime}
    return used


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """Return the CPU seconds each part used between two cpu_seconds() readings.

    Per process: one that started meanwhile counts whole; one that ended meanwhile (a
    connection closed at CONN_MAX_AGE, a recycled worker) loses what it used since before.
    """
    return {part: sum(used - before.get(part, {}).get(pid, 0.0) for pid, used in after[part].items())
            for part in after}


def queue_drained() -> bool:
    """Whether the broker holds no queue item: every job of the round run and acknowledged."""
    return raw_count("SELECT count(*) FROM django_q_ormq", []) == 0


def empty_result_rows() -> None:
    """Start each round with django-q2's result table empty, as the bench's own connection.

    Past save_limit (1,000) rows, django-q2 counts and deletes a row for every job it saves:
    a cost the later rounds would pay and the first not. The last round's results may still
    be being saved (a pipeline round ends on its TaskInfo rows): wait for the queue to drain,
    and retry a DELETE that deadlocks with such a save.
    """
    import psycopg

    wait_until(queue_drained, timeout=60, message="the queue to drain")
    for attempt in range(10):
        try:
            _raw["connection"].execute("DELETE FROM django_q_task")
            return
        except psycopg.errors.DeadlockDetected:
            time.sleep(0.2 * (attempt + 1))
    raise SystemExit("could not empty django_q_task")


def pipeline_round(jobs: int, owner) -> tuple[float, str]:
    from jobs.lifecycle import create_task

    tag = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for _ in range(jobs):
        create_task(tag, kind=NOOP_KIND, owner=owner)
    wait_until(lambda: raw_count("SELECT count(*) FROM jobs_taskinfo WHERE name = %s AND status = 'completed'",
                                 [tag]) >= jobs, timeout=300, message=f"{jobs} pipeline jobs")
    return time.perf_counter() - started, tag


def bare_round(jobs: int) -> tuple[float, str]:
    from django_q.tasks import async_task

    tag = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for _ in range(jobs):
        async_task("bench.jobfuncs.bare_noop", group=tag)
    wait_until(lambda: raw_count("SELECT count(*) FROM django_q_task WHERE \"group\" = %s", [tag]) >= jobs,
               timeout=300, message=f"{jobs} bare jobs")
    return time.perf_counter() - started, tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(ENV)
    setup("statusmsg_bench_jobs")

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from jobs.models import TaskInfo
    from notifications.models import Notification
    from statusmsg.conf import app_settings

    TaskInfo.objects.all().delete()
    # A run cut short leaves its queue rows locked for the retry period: start empty.
    raw_count("SELECT 1", [])
    _raw["connection"].execute("DELETE FROM django_q_ormq")
    Notification.objects.filter(user__username="bench-jobs").delete()
    owner, _ = get_user_model().objects.get_or_create(username="bench-jobs")
    count_file = BENCH_DIR / f"sqlcount-{os.getpid()}"
    create(count_file)
    install(count_file)
    cluster = Cluster({**ENV, "DATABASE_URL": os.environ["DATABASE_URL"], "BENCH_SQL_COUNT_FILE": str(count_file)},
                      name="job-throughput")
    q = settings.Q_CLUSTER
    print(f"{args.jobs} no-op jobs per round, {args.rounds} rounds each; cluster workers={q['workers']} "
          f"poll={q['poll']}s broker=ORM; heartbeat interval {app_settings.HEARTBEAT_INTERVAL}s")
    rates: dict[str, list[float]] = {"bare": [], "pipeline": []}
    statements: dict[str, list[dict]] = {"bare": [], "pipeline": []}
    cpu: dict[str, list[dict]] = {"bare": [], "pipeline": []}
    try:
        # Warm up both paths (and wait for the cluster to be up).
        bare_round(20)
        pipeline_round(20, owner)
        for round_number in range(1, args.rounds + 1):
            # Alternate which path goes first, so a drift in the machine's load falls on both.
            for name in ("bare", "pipeline") if round_number % 2 else ("pipeline", "bare"):
                empty_result_rows()
                before, cpu_before = totals(count_file), cpu_seconds(cluster.process.pid)
                elapsed, _ = bare_round(args.jobs) if name == "bare" else pipeline_round(args.jobs, owner)
                # The costs are read once the monitor has saved and acknowledged every job of
                # the round (a pipeline round ends on its own rows, before that), so they are
                # the round's whole costs, whichever path it ran.
                wait_until(queue_drained, timeout=60, message="the queue to drain")
                after, cpu_after = totals(count_file), cpu_seconds(cluster.process.pid)
                rates[name].append(args.jobs / elapsed)
                statements[name].append({verb: (after[verb] - before[verb]) / args.jobs for verb in after})
                used = cpu_used(cpu_before, cpu_after)
                cpu[name].append({part: seconds / args.jobs * 1000 for part, seconds in used.items()})
                print(f"round {round_number} {name:8s} {args.jobs / elapsed:6.1f} jobs/s  "
                      f"({elapsed:5.2f} s)  {statements[name][-1]['total']:5.1f} statements/job  "
                      f"CPU {sum(cpu[name][-1].values()):5.2f} ms/job  load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        cluster.stop()
        count_file.unlink(missing_ok=True)
        if "connection" in _raw:
            _raw.pop("connection").close()

    print()
    for name in ("bare", "pipeline"):
        per_job = {verb: statistics.median(s[verb] for s in statements[name]) for verb in statements[name][0]}
        print(f"{name:8s} best {max(rates[name]):6.1f} jobs/s  median {statistics.median(rates[name]):6.1f} jobs/s  "
              f"SQL statements/job {per_job['total']:.1f} ("
              + ", ".join(f"{verb} {value:.1f}" for verb, value in per_job.items() if verb != "total" and value)
              + ")")
    cpu_per_job = {name: {part: statistics.median(c[part] for c in cpu[name]) for part in cpu[name][0]}
                   for name in cpu}
    for name, parts in cpu_per_job.items():
        print(f"{name:8s} CPU ms/job (median): {sum(parts.values()):.2f} = "
              + ", ".join(f"{part} {value:.2f}" for part, value in parts.items() if value or part != "cluster rest"))
    cpu_ratio = sum(cpu_per_job["bare"].values()) / sum(cpu_per_job["pipeline"].values())
    print(f"bare CPU / pipeline CPU per job: {cpu_ratio:.2f}x  (the rate ratio a CPU-bound machine would see)")
    ratio_best = max(rates["pipeline"]) / max(rates["bare"])
    ratio_median = statistics.median(rates["pipeline"]) / statistics.median(rates["bare"])
    print(f"pipeline / bare: best {ratio_best:.2f}x  median {ratio_median:.2f}x   (target >= 0.9x)")
    print("statements and CPU per job are read once the queue has drained (the monitor's saving and acks "
          "included), with the cluster's idle polls meanwhile; both paths pay those alike")


if __name__ == "__main__":
    main()
