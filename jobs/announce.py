"""The one announce path: a task's committed state, as a job_update, handed to the realtime publisher.

Called after the write that changed the row has committed (announce_on_commit), so a
subscriber never hears of a state the database does not hold. A failed push is the
publisher's to log and catch up; it never reaches the caller.

Announcements coalesce per commit: a plain announcement of a task (no status word, no extra
fields) is dropped when a later one of the same task is queued in the same transaction, so
a transaction that writes a row several times publishes its last state once. Each message
carries the row's whole snapshot, so the later one says everything the earlier one did.
"""

import threading

from django.db import transaction

from realtime import publisher

from .messages import latest_task_message, task_update_message
from .models import TaskInfo
from .queries import tasks_for


class _Announcement:
    """One announce_on_commit, run by the transaction's commit unless a later one supersedes it."""

    __slots__ = ("fields", "message_status", "row", "savepoints", "superseded", "task_id")

    def __init__(self, task_id, message_status, row, fields, savepoints):
        self.task_id = task_id
        self.message_status = message_status
        self.row = row
        self.fields = fields
        self.savepoints = savepoints
        self.superseded = False

    @property
    def plain(self) -> bool:
        """Whether the message says nothing but the row's snapshot (a later snapshot says it all)."""
        return self.message_status is None and not self.fields

    def __call__(self) -> None:
        if not self.superseded:
            announce(self.task_id, self.message_status, row=self.row, **self.fields)


# Per thread (as Django's connections are): the last announcement queued for each task in the
# transaction under way, and that transaction's list of commit callbacks, which tells it apart.
_queued = threading.local()


def announce_on_commit(task_id, message_status: str | None = None, *, row: TaskInfo | None = None,
                       **fields) -> None:
    """Publish the task's snapshot once the current transaction commits.

    row, when the caller already holds the row as its write left it (UPDATE … RETURNING),
    is published as it is instead of being read again.
    """
    connection = transaction.get_connection()
    savepoints = frozenset(connection.savepoint_ids) if connection.in_atomic_block else None
    announcement = _Announcement(task_id, message_status, row, fields, savepoints)
    if savepoints is not None:
        _supersede_earlier(connection, announcement)
    transaction.on_commit(announcement)  # in autocommit (no transaction), this runs it now


def _supersede_earlier(connection, announcement: _Announcement) -> None:
    """Drop the earlier plain announcement of the same task queued in this transaction, if it is safe.

    Safe when both were queued under the same savepoints (a rollback that discards one then
    discards both, so the later one is published whenever the earlier one would have been),
    and the earlier one is still queued. Django gives each transaction a new list of commit
    callbacks, and a new one after a savepoint rollback: while the list is the same object,
    nothing queued in it has run or been discarded.
    """
    if getattr(_queued, "callbacks", None) is not connection.run_on_commit:
        _queued.callbacks = connection.run_on_commit  # a new transaction (or a rollback): start afresh
        _queued.by_task = {}
    earlier = _queued.by_task.get(announcement.task_id)
    _queued.by_task[announcement.task_id] = announcement
    if earlier is not None and earlier.plain and earlier.savepoints == announcement.savepoints:
        earlier.superseded = True


def announce(task_id, message_status: str | None = None, *, row: TaskInfo | None = None, **fields) -> dict | None:
    """Publish the task's snapshot now; return it (None if the row is gone).

    message_status overrides the message's `status` word (e.g. "batch_update").
    """
    task = row if row is not None else tasks_for(None).filter(pk=task_id).first()
    if task is None:
        return None
    message = task_update_message(task, message_status, **fields)
    # refresh lets the publisher re-send the newest state of a job whose push it missed.
    publisher.publish_job_message(message, task.owner_id, refresh=latest_task_message)
    return message["task"]
