"""Fail tasks whose worker was lost: once, or with --loop every REAP_INTERVAL s, needing no cluster."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import Error as DatabaseError

from jobs.heartbeat import drop_connection
from jobs.reaper import reap_stale_tasks
from statusmsg.conf import app_settings

logger = logging.getLogger(__name__)


class _Stop(BaseException):
    """SIGTERM or SIGINT: end the loop (a BaseException, so reap_once's catch-all lets it through)."""


def _raise_stop(signum, frame):
    raise _Stop()


class Command(BaseCommand):
    help = "Fail running tasks whose worker stopped sending heartbeats (with --loop: keep doing it)."

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=float, default=None, help="Seconds (default STATUSMSG_STALE_AFTER).")
        parser.add_argument("--loop", action="store_true",
                            help="Reap every --interval seconds until SIGTERM or SIGINT.")
        parser.add_argument("--interval", type=float, default=None, help="Seconds (default STATUSMSG_REAP_INTERVAL).")

    def handle(self, *args, stale_after, loop, interval, **options):
        if not loop:
            count = reap_stale_tasks(stale_after)
            self.stdout.write(f"Reaped {count} stale tasks.")
            return
        interval = app_settings.REAP_INTERVAL if interval is None else interval
        # Raised from the handler, so it also cuts a sleep or a query short: stopping takes no
        # longer than the signal. (A flag set from the handler would wait out the interval.)
        previous = {signum: signal.signal(signum, _raise_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        self.stdout.write(f"Reaping stale tasks every {interval:g} s; SIGTERM or SIGINT stops.")
        try:
            while True:
                self.reap_once(stale_after)
                time.sleep(interval)
        except _Stop:
            self.stdout.write("Reaper stopped.")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def reap_once(self, stale_after: float | None) -> None:
        try:
            count = reap_stale_tasks(stale_after)
        except Exception as exc:  # a loop that dies reaps nothing: log, and try again next round
            logger.exception("reaping failed; retrying in the next round")
            if isinstance(exc, DatabaseError):
                drop_connection()  # the database may be restarting: the next round reconnects
            return
        if count:
            self.stdout.write(f"Reaped {count} stale tasks.")
