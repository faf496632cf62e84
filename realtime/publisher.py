"""The one publisher: the only code that sends to channel-layer groups.

Callers publish after their transaction commits. A push never fails or stalls its caller:
each one is bounded by STATUSMSG["PUSH_TIMEOUT"], and after a failure (Redis down or
hanging) pushes are skipped for STATUSMSG["PUSH_BACKOFF"] seconds, logged as a warning.
The database row is the truth; a client catches up from the snapshot it gets on connect.
"""

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import time

from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from jobs.exceptions import TaskNotFound
from jobs.queries import get_task, tasks_for

from .groups import ALL_USERS_GROUP, STAFF_JOBS_GROUP, job_group, topic_group, user_group, user_jobs_group
from .messages import job_update_message, task_update_message

logger = logging.getLogger(__name__)

_UNKNOWN = object()


# --- job updates ---------------------------------------------------------------------------

def publish_job_update(snapshot: dict, status: str, *, owner_id=_UNKNOWN, **fields) -> bool:
    """Send a job_update for a task snapshot to every group that follows the job."""
    message = job_update_message(snapshot, status, **fields)
    if owner_id is _UNKNOWN:
        owner_id = tasks_for(None).filter(pk=message["job_id"]).values_list("owner_id", flat=True).first()
    return _send(*_job_event(message, owner_id))


def publish_task_update(task, status: str | None = None, **fields) -> dict:
    """Send the job_update of a task row (see messages.task_update_message); return the message."""
    message = task_update_message(task, status, **fields)
    _send(*_job_event(message, task.owner_id))
    return message


def _job_event(message: dict, owner_id) -> tuple[list[str], dict]:
    """Return the groups that follow the job and the event the consumers relay."""
    groups = [job_group(message["job_id"])]
    topic = (message["task"].get("metadata") or {}).get("topic")
    if topic:
        groups.append(topic_group(str(topic)))
    if owner_id is not None:
        groups.append(user_jobs_group(owner_id))
    groups.append(STAFF_JOBS_GROUP)
    # Encoded once here rather than once per socket: a consumer relays `text` as it is and
    # needs only job_id, seq and owner_id to decide whether to.
    event = {
        "type": "job.update",
        "job_id": message["job_id"],
        "seq": message["seq"],
        "owner_id": owner_id,
        "text": json.dumps(message, cls=DjangoJSONEncoder),
    }
    return groups, event


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


def _job_event_for(job_id, status: str, fields: dict):
    try:
        task = get_task(job_id)
    except TaskNotFound:
        logger.warning("push skipped: no task id=%s status=%s", job_id, status)
        return None
    return _job_event(task_update_message(task, status, **(fields or {})), task.owner_id)


def _send_for_job(job_id, status: str, fields: dict) -> bool:
    prepared = _job_event_for(job_id, status, fields)
    return _send(*prepared) if prepared else False


async def _asend_for_job(job_id, status: str, fields: dict) -> bool:
    prepared = await database_sync_to_async(_job_event_for)(job_id, status, fields)
    return await _asend(*prepared) if prepared else False


# --- user events -----------------------------------------------------------------------------

def publish_to_user(user_id, event: dict) -> bool:
    """Send an event (its "type" names the consumer handler) to every socket of one user."""
    return _send([user_group(user_id)], event)


def publish_to_all_users(event: dict) -> bool:
    """Send an event to every user's sockets (system-wide notices)."""
    return _send([ALL_USERS_GROUP], event)


# --- transport: bounded, and paused after a failure ----------------------------------------

_paused_until = 0.0
_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _option(name: str, default: float) -> float:
    return float(settings.STATUSMSG.get(name, default))


def _is_paused() -> bool:
    return time.monotonic() < _paused_until


def _pause(groups: list[str], error: BaseException) -> None:
    global _paused_until
    backoff = _option("PUSH_BACKOFF", 5.0)
    _paused_until = time.monotonic() + backoff
    logger.warning("push failed groups=%s error=%r; pushes paused for %ss", ",".join(groups), error, backoff)


async def _asend(groups: list[str], event: dict) -> bool:
    """Send event to groups within PUSH_TIMEOUT; False (and pause) if that fails."""
    if _is_paused():
        return False
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async with asyncio.timeout(_option("PUSH_TIMEOUT", 0.5)):
            for group in groups:
                await layer.group_send(group, event)
    except Exception as exc:  # noqa: BLE001 - any push failure must stay out of the caller
        _pause(groups, exc)
        return False
    return True


def _send(groups: list[str], event: dict) -> bool:
    """Send from sync code: on the caller's event loop if it has one, else on the publisher's."""
    if _is_paused():
        return False
    if _caller_loop() is not None:
        # Called from sync code run by an event loop (a view under daphne, a test): the
        # layer's connections belong to that loop, so the send runs there.
        return async_to_sync(_asend)(groups, event)
    future = asyncio.run_coroutine_threadsafe(_asend(groups, event), _publisher_loop())
    try:
        # _asend bounds itself; this outer limit only guards against a stuck loop.
        return future.result(timeout=_option("PUSH_TIMEOUT", 0.5) + 1.0)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        _pause(groups, exc)
        return False


def _caller_loop():
    """Return the running event loop that called this thread through sync_to_async, if any."""
    try:
        asyncio.get_running_loop()
        return None  # sync code called straight from a coroutine: async_to_sync cannot work
    except RuntimeError:
        pass
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """Return this process's publisher event loop, started on first use.

    One long-lived loop keeps one Redis connection per worker process instead of a new
    loop and connection per push (what async_to_sync would do). Checked against the pid:
    a forked worker inherits the variable but not the thread.
    """
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-publisher", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop
