"""This process's socket and file-descriptor figures, and the thread that reports them to the database.

Each daphne process counts its own sockets (by path and by user) and the messages it sent
and dropped; every REPORT_EVERY seconds a daemon thread upserts them, with the process's
file descriptors against its limit, into ProcessReport. Rows older than REPORT_TTL belong
to processes that are gone and are left out of every reading.
"""

import logging
import os
import resource
import socket
import threading
from collections import Counter
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from .models import ProcessReport

logger = logging.getLogger(__name__)

REPORT_EVERY = 5.0  # seconds
REPORT_TTL = timedelta(seconds=20)  # a process silent this long is taken for gone


class ConnectionStats:
    """Counters of one process's sockets; updated from the event loop, read by the reporter thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.sockets_by_path: Counter[str] = Counter()
        self.sockets_by_user: Counter[str] = Counter()
        self.messages_sent = 0
        self.messages_dropped = 0

    def opened(self, path: str, user_id) -> None:
        with self._lock:
            self.sockets_by_path[path_kind(path)] += 1
            self.sockets_by_user[str(user_id)] += 1

    def closed(self, path: str, user_id) -> None:
        with self._lock:
            for counter, key in ((self.sockets_by_path, path_kind(path)), (self.sockets_by_user, str(user_id))):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    def sent(self, count: int = 1) -> None:
        self.messages_sent += count  # one int add: atomic enough under the GIL for a counter

    def dropped(self, count: int = 1) -> None:
        self.messages_dropped += count

    def snapshot(self) -> dict:
        with self._lock:
            by_path, by_user = dict(self.sockets_by_path), dict(self.sockets_by_user)
        return {
            "sockets": sum(by_path.values()),
            "sockets_by_path": by_path,
            "sockets_by_user": by_user,
            "messages_sent": self.messages_sent,
            "messages_dropped": self.messages_dropped,
            **file_descriptors(),
        }


def path_kind(path: str) -> str:
    """Return the route of a socket path without its id: /ws/bulk-process/<id> -> /ws/bulk-process/."""
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else path


def file_descriptors() -> dict:
    """Return this process's open file descriptors and its soft limit."""
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (macOS): unknown rather than wrong
        used = None
    return {"fds_used": used, "fds_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


stats = ConnectionStats()


def report_now(kind: str, figures: dict | None = None) -> None:
    """Write this process's figures to its ProcessReport row (one upsert)."""
    ProcessReport.objects.update_or_create(
        host=socket.gethostname(), pid=os.getpid(),
        defaults={"kind": kind, "stats": figures if figures is not None else stats.snapshot(),
                  "updated_at": timezone.now()},
    )


def live_reports() -> list[dict]:
    """Return the reports of the processes heard from within REPORT_TTL, web first."""
    fresh = ProcessReport.objects.filter(updated_at__gte=timezone.now() - REPORT_TTL).order_by("kind", "host", "pid")
    return [{"host": row.host, "pid": row.pid, "kind": row.kind, **row.stats, "updated_at": row.updated_at}
            for row in fresh]


def forget_stale_reports() -> int:
    """Delete the rows of processes gone for long; return how many."""
    deleted, _ = ProcessReport.objects.filter(updated_at__lt=timezone.now() - 10 * REPORT_TTL).delete()
    return deleted


_reporter: threading.Thread | None = None
_reporter_pid: int | None = None
_reporter_lock = threading.Lock()


def start_reporting(kind: str, every: float = REPORT_EVERY) -> None:
    """Start this process's reporter thread once (per pid: a forked child starts its own)."""
    global _reporter, _reporter_pid
    with _reporter_lock:
        if _reporter is not None and _reporter_pid == os.getpid():
            return
        _reporter = threading.Thread(target=_report_forever, args=(kind, every), name="process-stats", daemon=True)
        _reporter_pid = os.getpid()
        _reporter.start()


def _report_forever(kind: str, every: float) -> None:
    stop = threading.Event()
    while True:
        try:
            report_now(kind)
            forget_stale_reports()
        except Exception:  # the database may be away for a moment; the next round tries again
            logger.exception("process stats report failed")
        finally:
            connection.close()  # this thread's own connection: never hold one between rounds
        stop.wait(every)
