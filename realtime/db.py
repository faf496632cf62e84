"""The consumers' database access: small async helpers over jobs' and notifications' read side."""

from channels.db import database_sync_to_async

from jobs.exceptions import TaskNotFound
from jobs.messages import task_update_message
from jobs.models import FINAL_STATUSES
from jobs.queries import get_task, list_tasks

from . import unread

# How many jobs a topic or feed socket gets snapshots of on connect (newest first).
SNAPSHOT_LIMIT = 100


@database_sync_to_async
def visible_task_message(job_id, user) -> dict | None:
    """Return the job_update snapshot message of a job user may see, or None."""
    try:
        return task_update_message(get_task(job_id, user))
    except TaskNotFound:
        return None


@database_sync_to_async
def topic_task_messages(topic: str, user) -> list[dict]:
    """Return snapshot messages of the newest jobs of a topic that user may see, oldest first."""
    tasks = list_tasks(user=user).filter(metadata__topic=topic)[:SNAPSHOT_LIMIT]
    return [task_update_message(task) for task in reversed(tasks)]


@database_sync_to_async
def feed_task_messages(user) -> list[dict]:
    """Return snapshot messages of user's newest jobs and every unfinished one, oldest first."""
    newest = list(list_tasks(user=user)[:SNAPSHOT_LIMIT])
    unfinished = list_tasks(user=user).exclude(status__in=FINAL_STATUSES).exclude(
        pk__in=[task.pk for task in newest]
    )[:SNAPSHOT_LIMIT]
    tasks = sorted([*newest, *unfinished], key=lambda task: task.created_at)
    return [task_update_message(task) for task in tasks]


@database_sync_to_async
def job_access(job_id, user) -> str:
    """Return "allowed", "forbidden" (someone else's job) or "missing" for user and a job id.

    Whether user may see it is jobs' one rule (get_task with user); only a refusal looks
    again without a user, to tell someone else's job from none at all.
    """
    try:
        get_task(job_id, user)
        return "allowed"
    except TaskNotFound:
        pass
    try:
        get_task(job_id)
    except TaskNotFound:
        return "missing"
    return "forbidden"

read_unread_count = database_sync_to_async(unread.read_unread_count)
