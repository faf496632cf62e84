"""django-q2's queue as the engine uses it: which broker commits with the rows, and one push."""

from django_q.conf import Conf
from django_q.tasks import async_task

from .models import TaskInfo


class NotQueued(Exception):
    """The broker refused a queue item inside create_task's transaction (the cause says why)."""


def commits_with_rows() -> bool:
    """Whether django-q2's broker is its ORM one on the tasks' own database (not run synchronously).

    Its queue items are then rows of that database, committed (or rolled back) with the task's.
    """
    other_broker = Conf.BROKER_CLASS or Conf.IRON_MQ or isinstance(Conf.SQS, dict)  # get_broker() prefers these
    return bool(Conf.ORM) and TaskInfo.objects.db == Conf.ORM and not Conf.SYNC and not other_broker


def enqueue_in_transaction(rows: list[TaskInfo], job_kind) -> None:
    """Queue each (unsaved) row inside the current transaction, putting its queue id on it."""
    for row in rows:
        try:
            row.queue_task_id = push(row.pk, job_kind.name, job_kind.effective_timeout) or ""
        except Exception as exc:
            raise NotQueued() from exc


def push(task_id, kind: str, timeout: int) -> str:
    return async_task("jobs.worker.run_task", str(task_id), task_name=f"{kind}:{task_id}", timeout=timeout)
