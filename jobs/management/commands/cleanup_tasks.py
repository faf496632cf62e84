from django.core.management.base import BaseCommand, CommandError

from jobs.cleanup import cleanup_old_tasks, finished_before
from jobs.serializers import MAX_CLEANUP_AGE_HOURS


class Command(BaseCommand):
    help = "Delete finished tasks older than --max-age-hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--max-age-hours", type=float, default=24.0)
        parser.add_argument("--dry-run", action="store_true", help="Count what would go, delete nothing.")

    def handle(self, *args, max_age_hours, dry_run, **options):
        if not 0 <= max_age_hours <= MAX_CLEANUP_AGE_HOURS:
            raise CommandError(f"--max-age-hours must be between 0 and {MAX_CLEANUP_AGE_HOURS}.")
        if dry_run:
            count = finished_before(max_age_hours).count()
            self.stdout.write(f"Would delete {count} finished tasks older than {max_age_hours:g} hours (dry run).")
            return
        count = cleanup_old_tasks(max_age_hours)
        self.stdout.write(self.style.SUCCESS(f"Deleted {count} finished tasks older than {max_age_hours:g} hours."))
