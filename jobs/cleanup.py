"""Delete finished tasks past an age, in batches, without loading them."""

from datetime import timedelta

from django.utils import timezone

from statusmsg.conf import app_settings

from .models import TaskInfo


def finished_before(max_age_hours: float):
    """The finished tasks that ended before the cutoff; a group's chunks go with their group (CASCADE),
    never before it."""
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    return TaskInfo.objects.finished().filter(completed_at__lt=cutoff, parent__isnull=True)


def delete_finished_tasks(task_ids) -> int:
    """Delete those of the given tasks that have finished; return how many (others are kept).

    A group's chunk is kept: it goes with its group, whose count it is part of.
    """
    deleted, _ = TaskInfo.objects.finished().filter(pk__in=list(task_ids), parent__isnull=True).delete()
    return deleted


def cleanup_old_tasks(max_age_hours: float = 24, batch_size: int | None = None) -> int:
    """Delete finished tasks that ended more than max_age_hours ago; return the count."""
    batch_size = batch_size or app_settings.CLEANUP_BATCH_SIZE
    deleted = 0
    while True:
        # The batch is a LIMITed subquery: no row (and no id) is ever loaded into Python,
        # so memory stays flat whatever the table holds, and each DELETE stays short.
        batch = finished_before(max_age_hours).order_by().values("pk")[:batch_size]
        count, _ = TaskInfo.objects.filter(pk__in=batch).delete()
        if not count:
            return deleted
        deleted += count
