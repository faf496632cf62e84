"""Free the django-q2 queue items that a cluster took but will not run: stopped, killed, or busy for long.

The ORM broker hides an item for `retry` seconds (70 min here) once a cluster takes it, and
only a saved result deletes it. A cluster that stops or dies leaves some behind (the stopped
job's own item, and jobs prefetched into its queue that never started); a cluster whose
workers are all busy holds its prefetched ones while others sit idle. Those of pending jobs
become visible again at once: if the first holder is alive and runs it too, start_task's
guarded UPDATE lets only one of them start it. Those of finished jobs are deleted; those of
running jobs are left alone.
"""

import logging
from datetime import timedelta

from django.db import Error as DatabaseError
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ

from .models import Status, TaskInfo

logger = logging.getLogger(__name__)

WORKER_ENTRY = "jobs.worker.run_task"


def release_held_items(held_longer_than: float = 0.0) -> int:
    """Make available again the items taken more than held_longer_than seconds ago; return how many."""
    now, released = timezone.now(), 0
    # A taken item's lock is "taken at + retry": taken before the cutoff means locked before this.
    locked_before = now + timedelta(seconds=Conf.RETRY - held_longer_than)
    try:
        for item in OrmQ.objects.filter(key=get_broker().list_key, lock__gt=now, lock__lt=locked_before):
            task = item.task
            if task.get("func") != WORKER_ENTRY or not task.get("args"):
                continue
            status = TaskInfo.objects.filter(pk=task["args"][0]).values_list("status", flat=True).first()
            held = OrmQ.objects.filter(pk=item.pk, lock=item.lock)  # unless a cluster took it meanwhile
            if status == Status.PENDING:
                released += held.update(lock=now)
            elif status != Status.RUNNING:
                released += held.delete()[0]
    except DatabaseError:  # the database is down: the items free themselves after `retry`
        logger.exception("could not release held queue items")
    if released:
        logger.info("released %s held queue items", released)
    return released
