"""Retry what failed: a new bulk analysis of exactly the failed URLs of a finished one."""

import logging

from jobs.queries import get_task

from .analysis import KIND, OPTIONS, start_bulk_analysis
from .exceptions import NothingToRetry
from .results import retryable_urls

logger = logging.getLogger(__name__)


def retry_failed(task_id, user) -> str:
    """Start a bulk analysis of the task's failed URLs with its topic and options, for user; return its id.

    TaskNotFound when user may not see the task (owner or staff); NothingToRetry when it is
    not a finished bulk analysis or none of its URLs failed. The new task belongs to user,
    who asked for it; its metadata names the task it retries.
    """
    task = get_task(task_id, user)
    if task.kind != KIND:
        raise NothingToRetry("Only a bulk analysis can be retried.")
    if not task.is_finished:
        raise NothingToRetry(f"The analysis is still {task.status}; retry it once it has finished.")
    urls = retryable_urls(task)
    if not urls:
        raise NothingToRetry()
    options = {key: value for key, value in (task.params or {}).items() if key in OPTIONS}
    retry_id = start_bulk_analysis(urls, owner=user, retry_of=str(task.pk), **options)
    logger.info("task id=%s retries failed urls=%s of task id=%s", retry_id, len(urls), task.pk)
    return retry_id
