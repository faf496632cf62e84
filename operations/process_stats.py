"""Each server process's figures in the database, so that any process can report on all.

Every REPORT_EVERY seconds a daemon thread upserts what the process's `figures` function
returns (a web process: realtime.connection_stats, its sockets and file descriptors) into
ProcessReport. Rows older than REPORT_TTL belong to processes that are gone and are left
out of every reading.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from .models import ProcessReport

logger = logging.getLogger(__name__)

REPORT_EVERY = 5.0  # seconds
REPORT_TTL = timedelta(seconds=20)  # a process silent this long is taken for gone


def report_now(kind: str, figures: dict) -> None:
    """Write this process's figures to its ProcessReport row (one upsert)."""
    ProcessReport.objects.update_or_create(
        host=socket.gethostname(), pid=os.getpid(),
        defaults={"kind": kind, "stats": figures, "updated_at": timezone.now()},
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


def start_reporting(kind: str, figures: Callable[[], dict], every: float = REPORT_EVERY) -> None:
    """Start this process's reporter thread once (per pid: a forked child starts its own)."""
    global _reporter, _reporter_pid
    with _reporter_lock:
        if _reporter is not None and _reporter_pid == os.getpid():
            return
        _reporter = threading.Thread(target=_report_forever, args=(kind, figures, every), name="process-stats",
                                     daemon=True)
        _reporter_pid = os.getpid()
        _reporter.start()


def _report_forever(kind: str, figures: Callable[[], dict], every: float) -> None:
    stop = threading.Event()
    while True:
        try:
            report_now(kind, figures())
            forget_stale_reports()
        except Exception:  # the database may be away for a moment; the next round tries again
            logger.exception("process stats report failed")
        finally:
            connection.close()  # this thread's own connection: never hold one between rounds
        stop.wait(every)
