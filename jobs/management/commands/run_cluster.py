"""`manage.py run_cluster`: django-q2's cluster, with a stop that is bounded and leaves no process behind.

django-q2's own `qcluster` (1.11) stops badly in two ways. Sent SIGTERM as a process group (by
systemd, a container runtime, or `kill -TERM -pgid`), its sentinel dies at once, often while it
waits on the cluster's stop event; the main process then blocks for ever in stop_event.set(),
whose multiprocessing Condition waits for that dead sleeper to wake. And told to stop any other
way, the sentinel waits without limit for busy workers to finish their jobs.

This command runs the same Cluster but owns SIGTERM and SIGINT. On either it tells the running
jobs to stop (SIGINT to every process of the cluster: only a worker running a job handles it,
see jobs.stopping, while the sentinel, pusher, monitor and idle workers ignore it), asks the
sentinel to stop from a thread that may block, waits up to STOP_WITHIN seconds for every
process of the cluster, and kills whatever is left. The worker writes its job's final row
within that time (`failed`, "Worker stopped by signal"). At start and after the stop it frees
the queue items that stopped workers held (release_held_items), so pending jobs run at the
next start instead of an hour later.
"""

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import Error as DatabaseError
from django.db import connections
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as QclusterCommand

from jobs.queue_items import release_held_items
from jobs.reaper import reap_stale_tasks

logger = logging.getLogger(__name__)

STOP_WITHIN = 8.0  # seconds the cluster's processes get to end, of the 10 s a supervisor waits
PR_SET_CHILD_SUBREAPER = 36


class Command(QclusterCommand):
    help = "Start a django-q2 cluster that stops within seconds on SIGTERM or SIGINT, leaving no process."

    def handle(self, *args, **options):
        if not settings.SECRET_KEY:  # as qcluster: no start without the key that signs the tasks
            raise ImproperlyConfigured("Set SECRET_KEY: django-q2 signs the tasks with it.")
        # Orphans come to us, not to init: when the sentinel dies first, its workers stay
        # findable (and waitable) as our children.
        _become_subreaper()
        # What a cluster that died left behind: its jobs' rows, and the queue items it held.
        reap_at_start()
        release_held_items()
        connections.close_all()  # the cluster's processes are forked from this one: share no connection
        cluster = Cluster()  # installs django-q2's handlers, replaced just below
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, frame: stop.set())
        cluster.start()
        while not stop.is_set() and cluster.sentinel.is_alive():
            time.sleep(0.2)  # a flag, not work in the handler: the stop below may block and wait
        stop_cluster(cluster)
        release_held_items()


def stop_cluster(cluster: Cluster) -> None:
    """Stop every process of cluster within STOP_WITHIN seconds; kill what is left."""
    deadline = time.monotonic() + STOP_WITHIN
    for pid in descendants(os.getpid()):
        _signal(pid, signal.SIGINT)
    # Daemon thread: set() blocks for ever if the sentinel died waiting on the event, and
    # must not keep this process alive then.
    threading.Thread(target=cluster.stop_event.set, name="stop-sentinel", daemon=True).start()
    while (left := descendants(os.getpid())) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        logger.error("cluster process pid=%s did not stop within %s s; killing it", pid, STOP_WITHIN)
        _signal(pid, signal.SIGKILL)
    logger.info("cluster stopped in %.1f s", STOP_WITHIN - (deadline - time.monotonic()))


def reap_at_start() -> None:
    """Fail the rows of jobs whose worker was lost now, rather than at the reaper loop's next round."""
    try:
        reap_stale_tasks()
    except DatabaseError:  # the reaper loop, and the workers' first jobs, try again
        logger.exception("reaping at cluster start failed")


def descendants(pid: int) -> list[int]:
    """Return the live (not zombie) descendants of pid, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    live: set[int] = set()
    for entry in Path("/proc").iterdir() if sys.platform == "linux" else ():
        if not entry.name.isdigit():
            continue
        try:
            state, ppid = (entry / "stat").read_text().rpartition(")")[2].split()[:2]
        except OSError:  # it just exited
            continue
        children.setdefault(int(ppid), []).append(int(entry.name))
        if state not in "ZX":
            live.add(int(entry.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, []))
    return [child for child in found if child in live]


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signum)


def _become_subreaper() -> None:
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
