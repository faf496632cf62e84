"""Read-side use cases: one task, a list, the summary; always for someone."""

from django.core.exceptions import ValidationError
from django.db import connections

from .exceptions import TaskNotFound
from .models import RowShape, TaskInfo


def tasks_for(user):
    """Return the tasks user may see (all of them when user is None: system code)."""
    tasks = TaskInfo.objects.select_related("owner")
    return tasks if user is None else tasks.visible_to(user)


def get_task(task_id, user=None) -> TaskInfo:
    """Return the task if user may see it; TaskNotFound otherwise (malformed ids included)."""
    try:
        return tasks_for(user).get(pk=task_id)
    except (TaskInfo.DoesNotExist, ValidationError, ValueError):
        raise TaskNotFound() from None


def list_tasks(status: str | None = None, user=None, include_children: bool = False):
    """Return the tasks user may see, newest first, optionally of one status.

    A group's chunks are left out unless include_children: lists show the group, once.
    """
    tasks = tasks_for(user).order_by("-created_at")
    if not include_children:
        tasks = tasks.filter(parent__isnull=True)
    return tasks.filter(status=status) if status else tasks


def list_children(task_id, user=None):
    """Return the chunks of the group task_id, in order, if user may see the group; TaskNotFound otherwise."""
    group = get_task(task_id, user)
    return tasks_for(None).filter(parent=group).order_by("chunk_index")


def get_task_summary(user=None) -> dict:
    """Return total, pending, running, completed, failed and cancelled counts (groups once, not their chunks)."""
    return tasks_for(user).filter(parent__isnull=True).summary()


def read_task(task_id) -> TaskInfo | None:
    """Return the task with its owner attached (as select_related("owner") would), or None: the worker's read."""
    alias = TaskInfo.objects.db
    read = _task_reads.get(alias)
    if read is None:
        read = _task_reads[alias] = _TaskRead(alias)
    return read(task_id)


class _TaskRead:
    """The worker's read of its row, compiled once per database: its one query before the job starts.

    Compiling this join (every column of the task and of its owner) cost the ORM more than
    running it cost the database, so its SQL and the columns' shapes are made once, as
    notifications.queries.get_unread_count does, and each job sends only its id. Two threads
    building it at once store the same thing.
    """

    def __init__(self, alias: str):
        self.alias = alias
        quote = connections[alias].ops.quote_name
        owner_field = TaskInfo._meta.get_field("owner")
        user_model = owner_field.related_model
        self.shapes = [RowShape(alias, TaskInfo), RowShape(alias, user_model)]  # the task's columns, then its owner's
        selected = [f"{quote(table)}.{quote(field.column)}"
                    for table, shape in zip(("task", "owner"), self.shapes, strict=True) for field in shape.fields]
        self.sql = (
            f"SELECT {', '.join(selected)} FROM {quote(TaskInfo._meta.db_table)} {quote('task')} "
            f"LEFT OUTER JOIN {quote(user_model._meta.db_table)} {quote('owner')} "
            f"ON {quote('owner')}.{quote(user_model._meta.pk.column)} = {quote('task')}.{quote(owner_field.column)} "
            f"WHERE {quote('task')}.{quote(TaskInfo._meta.pk.column)} = %s"
        )

    def __call__(self, task_id) -> TaskInfo | None:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [TaskInfo._meta.pk.get_db_prep_value(task_id, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        task_shape, owner_shape = self.shapes
        task = task_shape.instance(row[:len(task_shape.fields)])
        owner = owner_shape.instance(row[len(task_shape.fields):])
        task.owner = owner if task.owner_id is not None else None
        return task


_task_reads: dict[str, _TaskRead] = {}
