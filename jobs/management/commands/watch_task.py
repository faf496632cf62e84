"""`manage.py watch_task <id>`: a live progress bar for one job, from its socket or the database."""

import asyncio
import os

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from jobs import watching
from jobs.exceptions import TaskNotFound


class Command(BaseCommand):
    help = (
        "Draw a live progress bar for one job until it ends. Exit status: 0 completed, 1 failed, "
        "2 cancelled, 3 when the job cannot be watched (unknown id, not yours, bad token, or no connection "
        "within --connect-timeout)."
    )

    def add_arguments(self, parser):
        parser.add_argument("task_id")
        parser.add_argument("--poll", action="store_true",
                            help="read the job from the database instead of the server's socket")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between reads with --poll")
        parser.add_argument("--url", default=None,
                            help="the server's base URL, ws(s):// or http(s):// "
                                 "(default $STATUSMSG_URL, else ws://127.0.0.1:$PORT, PORT defaulting to 8000)")
        parser.add_argument("--connect-timeout", type=float, default=watching.DEFAULT_CONNECT_TIMEOUT,
                            help="seconds to wait for a first connection before giving up with exit status 3 "
                                 f"(default {watching.DEFAULT_CONNECT_TIMEOUT:g})")
        parser.add_argument("--token", default=None,
                            help="API token (POST /api/auth/token); default $STATUSMSG_TOKEN")

    def handle(self, *args, task_id, poll, interval, url, token, connect_timeout, **options):
        # rich draws on the raw stream: Django's OutputWrapper would add a newline to every write.
        console = Console(file=getattr(self.stdout, "_out", self.stdout), highlight=False)
        if poll:
            if interval <= 0:
                raise CommandError(
                    "--interval must be a positive number of seconds.", returncode=watching.EXIT_CANNOT_WATCH
                )

            def follow(display):
                return watching.poll_task(task_id, display, interval=interval)
        else:
            token = token or os.environ.get("STATUSMSG_TOKEN")
            if not token:
                raise CommandError("Give an API token with --token or STATUSMSG_TOKEN (POST /api/auth/token), "
                                   "or read the database with --poll.", returncode=watching.EXIT_CANNOT_WATCH)
            url = watching.websocket_base_url(url or watching.default_base_url(os.environ))
            if not url.startswith(("ws://", "wss://")):
                raise CommandError(f"--url must start with ws://, wss://, http:// or https://, got {url!r}.",
                                   returncode=watching.EXIT_CANNOT_WATCH)
            if connect_timeout <= 0:
                raise CommandError("--connect-timeout must be a positive number of seconds.",
                                   returncode=watching.EXIT_CANNOT_WATCH)
            # Said before anything else, so a wrong port or host is plain at once.
            console.print(f"Connecting to {watching.job_socket_url(url, task_id)}", markup=False, soft_wrap=True)

            def follow(display):
                return asyncio.run(watching.follow_socket(task_id, url, token, display,
                                                          connect_timeout=connect_timeout))

        try:
            with watching.ProgressDisplay(console) as display:
                final = follow(display)
        except TaskNotFound:
            raise CommandError(f"No such task: {task_id}", returncode=watching.EXIT_CANNOT_WATCH) from None
        except (watching.WatchRefused, watching.WatchUnreachable) as refused:
            message = str(refused)
            raise CommandError(message[:1].upper() + message[1:], returncode=watching.EXIT_CANNOT_WATCH) from None
        display.summary(final)
        code = watching.exit_code(final)
        if code:
            raise SystemExit(code)
