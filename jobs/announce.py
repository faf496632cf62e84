"""The one announce path: a task's committed state, as a job_update, handed to the realtime publisher.

Called after the write that changed the row has committed (announce_on_commit), so a
subscriber never hears of a state the database does not hold. A failed push is the
publisher's to log and catch up; it never reaches the caller.
"""

from django.db import transaction

from realtime import publisher

from .messages import latest_task_message, task_update_message
from .models import TaskInfo
from .queries import tasks_for


def announce_on_commit(task_id, message_status: str | None = None, *, row: TaskInfo | None = None,
                       **fields) -> None:
    """Publish the task's snapshot once the current transaction commits.

    row, when the caller already holds the row as its write left it (UPDATE … RETURNING),
    is published as it is instead of being read again.
    """
    transaction.on_commit(lambda: announce(task_id, message_status, row=row, **fields))


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
