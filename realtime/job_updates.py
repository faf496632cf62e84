"""Job updates: build a job's `job_update` message from its row and hand it to the publisher.

The publisher (realtime/publisher.py) is the transport and knows nothing of jobs; this
module reads the rows (snapshot, owner) and keeps the old system's helper names.
"""

import logging

from channels.db import database_sync_to_async

from jobs.exceptions import TaskNotFound
from jobs.queries import get_task

from . import publisher
from .messages import task_update_message

logger = logging.getLogger(__name__)

def publish_task_update(task, status: str | None = None, **fields) -> dict:
    """Send the job_update of a task row (see messages.task_update_message); return the message."""
    message = task_update_message(task, status, **fields)
    publisher.publish_job_message(message, task.owner_id)
    return message


def latest_job_message(job_id, status: str | None = None, fields: dict | None = None) -> tuple[dict, object] | None:
    """Return the job's current job_update message and its owner id, or None if it is gone."""
    try:
        task = get_task(job_id)
    except TaskNotFound:
        logger.warning("push skipped: no task id=%s status=%s", job_id, status)
        return None
    return task_update_message(task, status, **(fields or {})), task.owner_id


# --- the old system's helpers, sync and async ----------------------------------------------
# Each publishes the row's current snapshot (and seq) with the caller's fields; a client
# that already shows this seq ignores it, so state worth seeing belongs in the row first.

def send_progress_update(job_id, progress_data: dict) -> bool:
    """Announce progress of a job (status "progress"); False if not sent."""
    return _send_for_job(job_id, "progress", progress_data)


def send_completion_update(job_id, results) -> bool:
    """Announce that a job completed (status "completed") with its results."""
    return _send_for_job(job_id, "completed", {"results": results})


def send_error_update(job_id, error) -> bool:
    """Announce that a job failed (status "error")."""
    return _send_for_job(job_id, "error", {"error": str(error)})


def send_batch_update(job_id, batch_info: dict) -> bool:
    """Announce that a batch of a job finished (status "batch_update")."""
    return _send_for_job(job_id, "batch_update", batch_info)


def send_cancellation_update(job_id, reason: str = "") -> bool:
    """Announce that a job was cancelled (status "cancelled")."""
    return _send_for_job(job_id, "cancelled", {"message": reason} if reason else {})


async def asend_progress_update(job_id, progress_data: dict) -> bool:
    return await _asend_for_job(job_id, "progress", progress_data)


async def asend_completion_update(job_id, results) -> bool:
    return await _asend_for_job(job_id, "completed", {"results": results})


async def asend_error_update(job_id, error) -> bool:
    return await _asend_for_job(job_id, "error", {"error": str(error)})


async def asend_batch_update(job_id, batch_info: dict) -> bool:
    return await _asend_for_job(job_id, "batch_update", batch_info)


async def asend_cancellation_update(job_id, reason: str = "") -> bool:
    return await _asend_for_job(job_id, "cancelled", {"message": reason} if reason else {})


def _send_for_job(job_id, status: str, fields: dict) -> bool:
    latest = latest_job_message(job_id, status, fields)
    return publisher.publish_job_message(*latest) if latest else False


async def _asend_for_job(job_id, status: str, fields: dict) -> bool:
    latest = await database_sync_to_async(latest_job_message)(job_id, status, fields)
    return await publisher.apublish_job_message(*latest) if latest else False
