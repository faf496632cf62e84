"""Real server processes for the `services` tests: django-q2 clusters and daphne servers.

They run with statusmsg.settings against the same test database and Redis that the test
process uses, so what a test writes they see, and what they write the test can assert on.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from statusmsg.conf import app_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """Return a URL for the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    assert db["ENGINE"].endswith("postgresql"), "real-process tests need PostgreSQL (make test-services)"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides) -> dict:
    """Return the environment for a server process that shares the test's database and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statusmsg.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "statusmsg-test"),
        "STATUSMSG_PROGRESS_INTERVAL": str(app_settings.PROGRESS_INTERVAL),
        "STATUSMSG_HEARTBEAT_INTERVAL": str(app_settings.HEARTBEAT_INTERVAL),
        "STATUSMSG_EXTRA_JOB_KINDS": app_settings.EXTRA_JOB_KINDS,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A child process started in its own process group, stopped for sure at the end."""

    def __init__(self, args: list[str], env: dict, log_name: str):
        self.args, self.env = args, env
        log_dir = BASE_DIR / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{log_name}-{os.getpid()}-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open for the process's lifetime, closed in stop()
        self.process = subprocess.Popen(self.args, cwd=BASE_DIR, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self, sig=signal.SIGKILL) -> None:
        """Send sig to the whole process group (a qcluster has worker children)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if not self.process:
            return
        self.kill(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.process.wait(5)
        finally:
            # A group member may outlive the leader; make sure none is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Qcluster(ServerProcess):
    """A worker cluster as make run and the systemd units start it (run_cluster: a bounded, clean stop)."""

    def __init__(self, **env_overrides):
        super().__init__([sys.executable, "manage.py", "run_cluster"], process_env(**env_overrides), "qcluster")


class LocalServer:
    """The addresses of a server listening on 127.0.0.1:port."""

    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


class Daphne(LocalServer, ServerProcess):
    def __init__(self, port: int | None = None, **env_overrides):
        self.port = port or free_port()
        super().__init__([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                          "statusmsg.asgi:application"], process_env(**env_overrides), "daphne")

    def start(self) -> "Daphne":
        super().start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.http_url}/accounts/login/", timeout=1)
                return self
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"daphne exited:\n{self.log()}") from None
                time.sleep(0.1)
        raise RuntimeError(f"daphne did not answer on {self.http_url}:\n{self.log()}")


def wait_for(predicate, timeout: float = 20, interval: float = 0.05, message: str = "condition"):
    """Poll predicate until it returns a truthy value; return it, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def with_server_password(user, settings, password: str = "alice-password"):
    """Give user a password the server processes can check: they hash with PBKDF2, not the tests' MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user.set_password(password)
    user.save()
    return user


def in_thread(function):
    """Run function in a worker thread (await it) that closes its own database connection after."""
    import asyncio

    def run():
        try:
            return function()
        finally:
            connection.close()  # this thread's own; left open it blocks dropping the test database

    return asyncio.to_thread(run)
