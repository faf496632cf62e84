"""Shared by the ws_* benchmarks: a throwaway database, daphne processes, many token sockets.

Needs the Redis at REDIS_URL (default redis://127.0.0.1:6379/1); the database is a SQLite
file under var/bench/ so the benchmarks never touch anyone's PostgreSQL.
"""

import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "var" / "bench"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
PREFIX = f"bench{os.getpid()}"


def setup_django() -> dict:
    """Point this process at a fresh bench database; return {token, job_id, user_id}."""
    # A SIGTERM (e.g. from `timeout`) unwinds through the finally blocks that stop daphne.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database = BENCH_DIR / f"ws-{os.getpid()}.sqlite3"
    os.environ.update({"DJANGO_SETTINGS_MODULE": "statusmsg.settings", "DATABASE_URL": f"sqlite:///{database}",
                       "REDIS_URL": REDIS_URL, "CHANNEL_PREFIX": PREFIX, "DEBUG": "false", "LOG_LEVEL": "WARNING",
                       # One user holds every socket and pings through one of them: lift its caps.
                       "STATUSMSG_MAX_SOCKETS_PER_USER": "100000", "STATUSMSG_USER_MESSAGE_RATE": "100000"})
    # Settings refuse the development key when DEBUG is off; daphne inherits this one.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from jobs.models import TaskInfo

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password")
    job = TaskInfo.objects.create(name="bench job", kind="bulk_save", owner=user, total_items=1)
    return {"token": Token.objects.create(user=user).key, "job_id": str(job.pk), "user_id": user.pk,
            "database": database}


def raise_file_limit(sockets: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, sockets * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < sockets + 128:
        raise SystemExit(f"the open-file limit ({hard}) is too low for {sockets} sockets")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DaphneProcess:
    """A daphne serving app (or, given command, another server) on a free port, in its own session."""

    def __init__(self, app: str = "statusmsg.asgi:application", command: list[str] | None = None):
        self.port = free_port()
        env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        if command is None:
            command, name = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), app], "daphne"
        else:
            command, name = [*command, str(self.port)], Path(command[-1]).stem
        self.log = open(BENCH_DIR / f"{name}-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the server did not start; see {self.log.name}")

    @classmethod
    def bare_broadcast(cls) -> "DaphneProcess":
        """Start bench/ws_bare_broadcast.py instead: the websockets library alone."""
        return cls(command=[sys.executable, str(BASE_DIR / "bench" / "ws_bare_broadcast.py")])

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


async def open_sockets(ports: list[int], path: str, token: str, count: int, skip_messages: int):
    """Open count sockets spread over ports; read and drop the first skip_messages of each."""
    import websockets

    limit = asyncio.Semaphore(50)

    async def one(index: int):
        async with limit:
            ws = await websockets.connect(f"ws://127.0.0.1:{ports[index % len(ports)]}{path}",
                                          additional_headers={"Authorization": f"Token {token}"},
                                          max_queue=None, ping_interval=None, compression=None)
            for _ in range(skip_messages):
                await ws.recv()
            return ws

    return await asyncio.gather(*(one(i) for i in range(count)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def job_event(job_id: str, user_id: int, seq: int) -> dict:
    """A task.updated event as the publisher sends it, stamped with the send time."""
    message = {"type": "job_update", "job_id": job_id, "status": "progress", "seq": seq, "sent": time.perf_counter(),
               "task": {"id": job_id, "seq": seq, "status": "running", "progress": 50.0, "name": "x" * 200}}
    return {"type": "task.updated", "job_id": job_id, "seq": seq, "owner_id": user_id, "text": json.dumps(message)}
