"""Scale-out: jobs/s drained by one cluster and by two; socket messages/s through nginx to one and two daphnes.

Part 1 queues N CPU-bound jobs (50 ms of spinning each) on PostgreSQL, then times how long one
`run_cluster` takes to drain them, and two. Target: two clusters >= 1.6x one. Each cluster has
STATUSMSG_MAX_CONCURRENT_TASKS workers (default 1 here, so that two clusters can use both
cores; on this 2-core machine two clusters of 3 workers each would only contend).
Part 2 runs the deploy/ nginx site in front of one daphne, then two, opens S sockets through
nginx to one job, publishes M updates of it, and counts deliveries/s until every socket has
the last one.

Run: .venv/bin/python bench/scale_out.py [--jobs 200] [--workers 1] [--sockets 500] [--messages 20]
Needs PostgreSQL (BENCH_DATABASE_URL, default .../statusmsg_bench_scale), Redis, and nginx.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cluster import ChildProcess as Process
from _setup import BASE_DIR, setup

KIND = "bench_spin=bench.scale_out_jobs.spin_job"
os.environ["STATUSMSG_EXTRA_JOB_KINDS"] = KIND
os.environ.setdefault("CHANNEL_PREFIX", f"scale{os.getpid()}")
os.environ.setdefault("STATUSMSG_MAX_SOCKETS_PER_USER", "100000")
os.environ.setdefault("STATUSMSG_USER_MESSAGE_RATE", "100000")


def drain(clusters: int, jobs: int, workers: int) -> float:
    """Queue jobs, start clusters, return jobs/s from the first start to the last final row."""
    from django_q.models import OrmQ

    from jobs import lifecycle
    from jobs.models import FINAL_STATUSES, TaskInfo

    TaskInfo.objects.all().delete()
    OrmQ.objects.all().delete()
    ids = [lifecycle.create_task("spin", kind="bench_spin", params={"milliseconds": 50}) for _ in range(jobs)]
    env = {"STATUSMSG_MAX_CONCURRENT_TASKS": str(workers)}
    started = time.perf_counter()
    running = [Process([sys.executable, "manage.py", "run_cluster"], env, "scale-cluster") for _ in range(clusters)]
    try:
        while TaskInfo.objects.filter(pk__in=ids, status__in=FINAL_STATUSES).count() < jobs:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for cluster in running:
            cluster.stop()
    return jobs / elapsed


def nginx_in_front_of(ports: list[int], workdir: Path) -> tuple[Process, int]:
    from ws_common import free_port

    port = free_port()
    site = subprocess.run([str(BASE_DIR / "deploy" / "render-nginx"), f"127.0.0.1:{port}", str(BASE_DIR / "static"),
                           *map(str, ports)], check=True, capture_output=True, text=True).stdout
    (workdir / "site.conf").write_text(site)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / name).mkdir(exist_ok=True)
    (workdir / "nginx.conf").write_text(
        f"worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/error.log warn;\n"
        "events { worker_connections 8192; }\n"
        f"http {{ access_log off; client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy; "
        f"fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi; "
        f"include {workdir}/site.conf; }}\n")
    nginx = Process([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                     "-g", "daemon off;"], log="scale-nginx")
    time.sleep(0.5)
    return nginx, port


async def fan_out(port: int, env: dict, sockets: int, messages: int, first_seq: int) -> float:
    """Deliveries/s of messages updates of one job to sockets opened through nginx on port."""
    from ws_common import open_sockets
    from ws_fanout import fanout

    from realtime.groups import job_group

    opened = await open_sockets([port], f"/ws/bulk-process/{env['job_id']}", env["token"], sockets, skip_messages=2)
    rate = await fanout(opened, job_group(env["job_id"]), env, messages, first_seq)
    await asyncio.gather(*(ws.close() for ws in opened))
    return rate


def sockets_part(sockets: int, messages: int) -> dict[int, float]:
    from ws_common import DaphneProcess, raise_file_limit, setup_django

    raise_file_limit(sockets * 3)
    env = setup_django()
    rates = {}
    for daphnes in (1, 2):
        servers = [DaphneProcess() for _ in range(daphnes)]
        with tempfile.TemporaryDirectory() as workdir:
            nginx, port = nginx_in_front_of([server.port for server in servers], Path(workdir))
            try:
                rates[daphnes] = asyncio.run(fan_out(port, env, sockets, messages, first_seq=1000 * daphnes))
            finally:
                nginx.stop()
                for server in servers:
                    server.stop()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="workers per cluster")
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--skip-sockets", action="store_true")
    args = parser.parse_args()

    setup("statusmsg_bench_scale")
    one = drain(1, args.jobs, args.workers)
    two = drain(2, args.jobs, args.workers)
    print(f"jobs drained ({args.jobs} x 50 ms CPU, {args.workers} worker(s) per cluster): "
          f"one cluster {one:.1f}/s, two clusters {two:.1f}/s, ratio {two / one:.2f}x (target >= 1.6x; "
          f"{os.cpu_count()} cores)")
    if args.skip_sockets:
        return
    # The socket part runs on its own SQLite database and Redis prefix (ws_common), in a child,
    # so that this process's Django stays on the PostgreSQL of part 1.
    code = ("import sys; sys.path.insert(0, 'bench'); import scale_out; "
            f"r = scale_out.sockets_part({args.sockets}, {args.messages}); "
            f"print(f'socket messages through nginx ({args.sockets} sockets, {args.messages} updates): '"
            "f'one daphne {r[1]:.0f}/s, two daphnes {r[2]:.0f}/s, ratio {r[2] / r[1]:.2f}x')")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CHANNEL_PREFIX")}
    subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, check=True)


if __name__ == "__main__":
    main()
