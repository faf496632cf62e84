"""Start and stop a django-q2 cluster for the job benchmarks; run as a script, it is that cluster.

As a script (`python bench/_cluster.py`) it runs `qcluster` under the settings module in
DJANGO_SETTINGS_MODULE, first installing the SQL statement counter when
BENCH_SQL_COUNT_FILE names its file, so the pusher, the workers and the monitor it forks
all count what they send. Each of those processes is named after its role (q-worker,
q-pusher, q-monitor in /proc/PID/comm), so a benchmark can tell where the cluster's CPU goes.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "var" / "bench"


class ChildProcess:
    """A child process in its own session, logging to var/bench/; stop() ends it and its whole group for sure."""

    stop_grace = 12.0  # seconds a SIGTERMed child gets before its group is killed

    def __init__(self, args: list[str], env: dict | None = None, log: str = "bench", unique_log: bool = True):
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        suffix = f"-{time.monotonic_ns()}" if unique_log else ""
        self.log_path = BENCH_DIR / f"{log}-{os.getpid()}{suffix}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=BASE_DIR, env={**os.environ, **(env or {})}, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(self.stop_grace)
        # The workers are in the same process group; make sure none outlives the child.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()


class Cluster(ChildProcess):
    """One qcluster process group (this file run as a script), stopped for sure by stop()."""

    stop_grace = 15.0

    def __init__(self, env: dict, settings_module: str = "statusmsg.settings", name: str = "cluster"):
        super().__init__([sys.executable, str(Path(__file__).resolve())],
                         {**env, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"},
                         log=name, unique_log=False)


def wait_until(condition, timeout: float, interval: float = 0.02, message: str = "condition"):
    """Poll condition until it returns something truthy; return that, or raise after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s waiting for {message}")


def _run_cluster() -> None:
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    count_file = os.environ.get("BENCH_SQL_COUNT_FILE")
    if count_file:
        from bench._sqlcount import install

        install(Path(count_file))
    _name_processes()
    from django.core.management import call_command

    call_command("qcluster")


ROLES = ("worker", "pusher", "monitor")


def _name_processes() -> None:
    """Give each process django-q2 forks its role as its name (comm): q-worker, q-pusher, q-monitor."""
    import ctypes

    from django_q import cluster

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the processes keep their names
        return

    def named(role: str, target):
        def run(*args, **kwargs):
            prctl(15, f"q-{role}".encode(), 0, 0, 0)  # PR_SET_NAME
            return target(*args, **kwargs)

        return run

    # The Sentinel spawns each role by this module-level name (and compares against it).
    for role in ROLES:
        setattr(cluster, role, named(role, getattr(cluster, role)))


if __name__ == "__main__":
    _run_cluster()
