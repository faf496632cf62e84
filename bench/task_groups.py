"""Task groups: 1,000 URLs at 50 ms each with CPU-heavy analysis, as one task, as a group on one cluster, on two.

The job is the splitting kind "bench_analysis" (bench/task_groups_jobs.py): for each URL a
guarded fetch from a local server that answers after --latency (50 ms), then --cpu-ms (20 ms)
of CPU burnt, standing for a CPU-heavy analysis. (The real local analyzer costs ~7 ms of CPU a
page, bench/analysis_throughput.py: too light to show where two cores cap a group.) Each
chunk takes its URLs one at a time, so one worker does ~1 / (latency + cpu) items/s.

  (1) one task (CHUNK_SIZE above the URL count: it does not split) on one cluster of 1 worker;
  (2) a group (CHUNK_SIZE --chunk-size) on one cluster of 3 workers;
  (3) the same group on two clusters of 3 workers each.

It prints wall time and items/s of each (from create_task to the parent's final row, the
clusters started and running before), the ratios (2)/(1) (target >= 2.5x) and (3)/(2) (target
>= 1.6x), the CPU-bound share of an item measured in (1), and what that share lets two cores
do at most: CPU-bound work cannot go past ~2x one core, so a group cannot exceed
cores / (CPU seconds per item) items/s however many workers it has. For each run it also
prints the machine's busy share and the cores' worth of CPU spent on anything but the job
(PostgreSQL, the clusters' own processes, and whatever else the machine runs: on a shared
machine other people's tests), and so the bound each run had: latency or the CPU left to it.
Nothing is asserted.

Run: .venv/bin/python bench/task_groups.py [--urls 1000] [--latency 0.05] [--cpu-ms 20] [--chunk-size 50]
Needs PostgreSQL (BENCH_DATABASE_URL, default .../statusmsg_bench_groups); takes 3 to 4 minutes (the one
task alone takes 75 s or more).
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cluster import ChildProcess
from _setup import setup
from analysis_throughput import serve

KIND = "bench_analysis"
os.environ["STATUSMSG_EXTRA_JOB_KINDS"] = f"{KIND}=bench.task_groups_jobs.fetch_and_burn:urls"
os.environ.setdefault("CHANNEL_PREFIX", f"groups{os.getpid()}")


class Cluster(ChildProcess):
    """`manage.py run_cluster` with workers workers; stopped (group killed) for sure."""

    def __init__(self, workers: int, name: str):
        super().__init__([sys.executable, "manage.py", "run_cluster"],
                         {"STATUSMSG_MAX_CONCURRENT_TASKS": str(workers), "LOG_LEVEL": "INFO"}, log=f"groups-{name}")

    def running(self) -> bool:
        if self.process.poll() is not None:
            raise SystemExit(f"cluster exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
        return "] running." in self.log_path.read_text(errors="replace")


def machine_busy() -> tuple[float, float]:
    """Return (busy CPU seconds of all cores, wall clock now): two reads give the machine's busy share."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0), time.monotonic()


def run(urls: list[str], clusters: int, workers: int, chunk_size: int, cpu_ms: float) -> dict:
    """Start clusters, wait until they run, then time one bulk task of urls to its final row."""
    from django.conf import settings
    from django.test.utils import override_settings
    from django_q.models import OrmQ

    from jobs import lifecycle
    from jobs.models import FINAL_STATUSES, TaskInfo

    TaskInfo.objects.all().delete()
    OrmQ.objects.all().delete()
    running = [Cluster(workers, f"{clusters}x{workers}-{n}") for n in range(clusters)]
    try:
        deadline = time.monotonic() + 60
        while not all(cluster.running() for cluster in running):
            if time.monotonic() > deadline:
                raise SystemExit("the clusters did not start within 60 s")
            time.sleep(0.1)
        # create_task splits here, in this process, by its CHUNK_SIZE.
        with override_settings(STATUSMSG={**settings.STATUSMSG, "CHUNK_SIZE": chunk_size}):
            busy_began, began = machine_busy()
            started = time.perf_counter()
            task_id = lifecycle.create_task(f"bench of {len(urls)} URLs", total_items=len(urls), kind=KIND,
                                            params={"urls": urls, "cpu_ms": cpu_ms})
        while not TaskInfo.objects.filter(pk=task_id, status__in=FINAL_STATUSES).exists():
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        busy_ended, ended = machine_busy()
    finally:
        for cluster in running:
            cluster.stop()
    task = TaskInfo.objects.get(pk=task_id)
    result = task.result or {}
    return {
        "seconds": seconds,
        "rate": len(urls) / seconds,
        "status": task.status,
        "chunks": task.children_total,
        "fetched": result.get("fetched", 0),
        "failed": result.get("failed", 0),
        "cpu_seconds": result.get("cpu_seconds", 0.0),
        "job_wall_seconds": result.get("wall_seconds", 0.0),
        "machine_busy": (busy_ended - busy_began) / ((ended - began) * (os.cpu_count() or 1)),
        # Cores' worth of CPU spent on anything but the job's own work: PostgreSQL, the clusters'
        # pushers and monitors, the page server, and whatever else this machine runs meanwhile.
        "other_cores": max(0.0, busy_ended - busy_began - result.get("cpu_seconds", 0.0)) / (ended - began),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the page server takes per page")
    parser.add_argument("--cpu-ms", type=float, default=20.0, help="CPU milliseconds burnt per item")
    parser.add_argument("--chunk-size", type=int, default=50, help="CHUNK_SIZE of the groups (2) and (3)")
    args = parser.parse_args()

    port_queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(port_queue, args.latency), daemon=True)
    server.start()
    port = port_queue.get(timeout=10)
    os.environ["STATUSMSG_FETCH_ALLOW_HOSTS"] = f"127.0.0.1:{port}"
    setup("statusmsg_bench_groups")
    urls = [f"http://127.0.0.1:{port}/{n}.html" for n in range(args.urls)]
    cores = os.cpu_count() or 1
    print(f"{args.urls} URLs, {args.latency * 1000:.0f} ms a page, {args.cpu_ms:g} ms CPU an item; {cores} cores, "
          f"load average {os.getloadavg()[0]:.2f} at the start")
    runs = {
        "(1) one task, 1 worker": run(urls, 1, 1, chunk_size=args.urls + 1, cpu_ms=args.cpu_ms),
        f"(2) group of {args.chunk_size}s, 1 cluster x 3": run(urls, 1, 3, args.chunk_size, args.cpu_ms),
        f"(3) group of {args.chunk_size}s, 2 clusters x 3": run(urls, 2, 3, args.chunk_size, args.cpu_ms),
    }
    server.terminate()
    print(f"{'':34} {'chunks':>6} {'seconds':>8} {'items/s':>8} {'job CPU s':>9} {'machine busy':>12} "
          f"{'other cores':>11}  status fetched/failed")
    for name, figures in runs.items():
        print(f"{name:34} {figures['chunks']:>6} {figures['seconds']:>8.2f} {figures['rate']:>8.1f} "
              f"{figures['cpu_seconds']:>9.1f} {100 * figures['machine_busy']:>11.0f}% "
              f"{figures['other_cores']:>11.2f}  "
              f"{figures['status']} {figures['fetched']}/{figures['failed']}")
    one, group, two = runs.values()
    print(f"(2)/(1) = {group['rate'] / one['rate']:.2f}x (target >= 2.5x); "
          f"(3)/(2) = {two['rate'] / group['rate']:.2f}x (target >= 1.6x)")
    # The CPU-bound share of an item: its CPU over its time alone (the page's latency plus that CPU).
    cpu_per_item = one["cpu_seconds"] / args.urls
    alone = args.latency + cpu_per_item
    print(f"CPU-bound share of an item: {100 * cpu_per_item / alone:.0f}% ({cpu_per_item * 1000:.1f} ms CPU of "
          f"{alone * 1000:.1f} ms alone; measured in (1): {1000 * one['job_wall_seconds'] / args.urls:.1f} ms). "
          f"CPU-bound work cannot go past {cores} cores: {cores} / {cpu_per_item * 1000:.1f} ms = "
          f"{cores / cpu_per_item:.0f} items/s = {cores * alone / cpu_per_item:.1f}x one worker at best, "
          "less what PostgreSQL, the clusters and anything else running take")
    for (name, figures), workers in zip(runs.items(), (1, 3, 6), strict=True):
        latency_bound = workers / alone
        # The cores the job had: the machine's, less what everything else used meanwhile.
        job_cores = max(0.05, cores - figures["other_cores"])
        cpu_bound = job_cores / (figures["cpu_seconds"] / args.urls) if figures["cpu_seconds"] else float("inf")
        bound = "CPU" if cpu_bound < latency_bound else "latency"
        print(f"  {name}: latency allows {latency_bound:.1f} items/s, the {job_cores:.2f} cores left to the job "
              f"allow {cpu_bound:.1f}: {bound}-bound at {min(latency_bound, cpu_bound):.1f}, got {figures['rate']:.1f}")

if __name__ == "__main__":
    main()
