from django.core.management.base import BaseCommand

from jobs.reaper import reap_stale_tasks


class Command(BaseCommand):
    help = "Fail running tasks whose worker stopped sending heartbeats."

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=float, default=None, help="Seconds (default STATUSMSG_STALE_AFTER).")

    def handle(self, *args, stale_after, **options):
        count = reap_stale_tasks(stale_after)
        self.stdout.write(f"Reaped {count} stale tasks.")
