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
        "2 cancelled, 3 when the job cannot be watched (unknown id, not yours, bad token)."
    )

    def add_arguments(self, parser):
        parser.add_argument("task_id")
        parser.add_argument("--poll", action="store_true",
                            help="read the job from the database instead of the server's socket")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between reads with --poll")
        parser.add_argument("--url", default=os.environ.get("STATUSMSG_URL", "ws://127.0.0.1:8000"),
                            help="the server's WebSocket base URL (default $STATUSMSG_URL or ws://127.0.0.1:8000)")
        parser.add_argument("--token", default=None,
                            help="API token (POST /api/auth/token); default $STATUSMSG_TOKEN")

    def handle(self, *args, task_id, poll, interval, url, token, **options):
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
            if not url.startswith(("ws://", "wss://")):
                raise CommandError(f"--url must start with ws:// or wss://, got {url!r}.",
                                   returncode=watching.EXIT_CANNOT_WATCH)

            def follow(display):
                return asyncio.run(watching.follow_socket(task_id, url, token, display))

        try:
            with watching.ProgressDisplay(console) as display:
                final = follow(display)
        except TaskNotFound:
            raise CommandError(f"No such task: {task_id}", returncode=watching.EXIT_CANNOT_WATCH) from None
        except watching.WatchRefused as refused:
            raise CommandError(str(refused).capitalize(), returncode=watching.EXIT_CANNOT_WATCH) from None
        display.summary(final)
        code = watching.exit_code(final)
        if code:
            raise SystemExit(code)
