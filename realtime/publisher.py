"""The one publisher: the only code that sends to channel-layer groups.

Callers publish after their transaction commits. A push never fails or stalls its caller:
each one is bounded by STATUSMSG["PUSH_TIMEOUT"], and after a failure (Redis down or
hanging) pushes are skipped for STATUSMSG["PUSH_BACKOFF"] seconds, logged as a warning.
The database row is the truth: a client catches up from the snapshot it gets on connect,
and a socket that stayed open through the outage gets the latest snapshot of every job
whose update was missed once pushes work again (the catch-up below). Other events (a
user's notifications, auth revocations) are kept per group and sent again in order,
until delivered or superseded by the same event sent later.

A push that fails at once is tried once more before it counts as failed: after a Redis
restart the first command on each pooled connection fails ("Connection closed by
server"), and the retry reconnects, so a restart does not pause pushes.
"""

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import time
from collections.abc import Callable

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from statusmsg.conf import app_settings
from statusmsg.metrics import PUSH_FAILURES

from .groups import ALL_USERS_GROUP, STAFF_JOBS_GROUP, auth_group, job_group, topic_group, user_group, user_jobs_group

logger = logging.getLogger(__name__)

# The channel-layer event of a task's change; consumers handle it in task_updated (the socket
# message it carries keeps the seed's name, job_update).
TASK_UPDATED = "task.updated"

# Returns a job's newest (message, owner_id), or None if it is gone: given by the caller with
# each job message, so this transport re-sends missed jobs without knowing what a job is.
Refresh = Callable[[str], tuple[dict, object] | None]


def publish_job_message(message: dict, owner_id, refresh: Refresh | None = None) -> bool:
    """Send a job_update message to every group that follows its job; False if not sent.

    refresh, when given, is how the catch-up reads the job's newest message if this push
    is missed (Redis down): without it a missed push is only logged.
    """
    return _send(*_job_event(message, owner_id), refresh=refresh)


def _job_event(message: dict, owner_id) -> tuple[list[str], dict]:
    """Return the groups that follow the job and the event the consumers relay."""
    groups = [job_group(message["job_id"])]
    # A chunk of a task group is heard only by its own subscribers: the topic and the task lists
    # follow the group's parent, whose one throttled update stands for all its chunks.
    if message["task"].get("parent_id") is None:
        topic = (message["task"].get("metadata") or {}).get("topic")
        if topic:
            groups.append(topic_group(str(topic)))
        if owner_id is not None:
            groups.append(user_jobs_group(owner_id))
        groups.append(STAFF_JOBS_GROUP)
    # Encoded once here rather than once per socket: a consumer relays `text` as it is and
    # needs only job_id, seq and owner_id to decide whether to.
    event = {
        "type": TASK_UPDATED,
        "job_id": message["job_id"],
        "seq": message["seq"],
        "owner_id": owner_id,
        "text": json.dumps(message, cls=DjangoJSONEncoder),
    }
    return groups, event


# --- user events -----------------------------------------------------------------------------

def publish_to_user(user_id, event: dict) -> bool:
    """Send an event (its "type" names the consumer handler) to every socket of one user."""
    return _send([user_group(user_id)], event)


def publish_to_all_users(event: dict) -> bool:
    """Send an event to every user's sockets (system-wide notices)."""
    return _send([ALL_USERS_GROUP], event)


def publish_auth_event(user_id, event: dict) -> bool:
    """Send an event to every socket of one user, whatever it follows (auth revocations)."""
    return _send([auth_group(user_id)], event)


# --- transport: bounded, and paused after a failure ----------------------------------------

_paused_until = 0.0
# Jobs whose update was skipped or failed, oldest first, each with how to read its newest
# message; and the timer that re-sends their latest snapshot once the pause is over.
_missed: dict[str, Refresh] = {}
MISSED_LIMIT = 1000
# Other events that did not go out, per group in the order sent, for the same catch-up.
_missed_events: dict[str, list[dict]] = {}
MISSED_EVENTS_PER_GROUP = 100
_catch_up_timer: threading.Timer | None = None
_state_lock = threading.Lock()
_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _is_paused() -> bool:
    return time.monotonic() < _paused_until


def _pause(groups: list[str], error: BaseException) -> None:
    global _paused_until
    backoff = app_settings.PUSH_BACKOFF
    _paused_until = time.monotonic() + backoff
    logger.warning("push failed groups=%s error=%r; pushes paused for %ss", ",".join(groups), error, backoff)
    _schedule_catch_up(backoff)


def _missed_push(groups: list[str], event: dict, refresh: Refresh | None) -> None:
    """Remember an event that did not go out, for the catch-up."""
    PUSH_FAILURES.inc()
    if event.get("type") != TASK_UPDATED:
        _missed_group_event(groups, event)
        return
    if refresh is None:
        logger.warning("push missed job id=%s and cannot be caught up (no refresh given)", event["job_id"])
        return
    with _state_lock:
        _missed.pop(event["job_id"], None)
        _missed[event["job_id"]] = refresh
        while len(_missed) > MISSED_LIMIT:
            del _missed[next(iter(_missed))]
    _schedule_catch_up(max(0.0, _paused_until - time.monotonic()))


def _missed_group_event(groups: list[str], event: dict) -> None:
    """Queue event for each group, replacing an equal one queued before (the later copy supersedes it)."""
    with _state_lock:
        for group in groups:
            queued = [earlier for earlier in _missed_events.pop(group, []) if earlier != event]
            queued.append(event)
            if len(queued) > MISSED_EVENTS_PER_GROUP:
                logger.warning("push catch-up dropped events=%s group=%s", len(queued) - MISSED_EVENTS_PER_GROUP,
                               group)
                del queued[:-MISSED_EVENTS_PER_GROUP]
            _missed_events[group] = queued  # re-inserted at the end: the dict's order is recency
        while len(_missed_events) > MISSED_LIMIT:
            dropped = next(iter(_missed_events))
            logger.warning("push catch-up dropped group=%s", dropped)
            del _missed_events[dropped]
    _schedule_catch_up(max(0.0, _paused_until - time.monotonic()))


def _delivered(groups: list[str], event: dict) -> None:
    """Forget queued copies of an event that has now reached its groups."""
    if not _missed_events:  # the common case: nothing was missed, no lock taken
        return
    with _state_lock:
        for group in groups:
            if group in _missed_events:
                _missed_events[group] = [earlier for earlier in _missed_events[group] if earlier != event]
                if not _missed_events[group]:
                    del _missed_events[group]


def _schedule_catch_up(delay: float) -> None:
    global _catch_up_timer
    with _state_lock:
        if _catch_up_timer is not None or not (_missed or _missed_events):
            return
        _catch_up_timer = threading.Timer(delay + 0.05, _catch_up)
        _catch_up_timer.daemon = True
        _catch_up_timer.start()


def _catch_up() -> None:
    """Send the current snapshot of every job whose update was missed (retried while paused)."""
    global _catch_up_timer
    with _state_lock:
        _catch_up_timer = None
        if _is_paused():
            missed, missed_events = {}, {}
        else:
            missed, missed_events = dict(_missed), dict(_missed_events)
            _missed.clear()
            _missed_events.clear()
    if not (missed or missed_events):
        _schedule_catch_up(max(0.0, _paused_until - time.monotonic()))
        return
    try:
        # A failure below remembers what it was sending again and re-arms the timer.
        for group, events in missed_events.items():
            for event in events:
                _send([group], event)
        for job_id, refresh in missed.items():
            latest = refresh(job_id)
            if latest:
                publish_job_message(*latest, refresh=refresh)
    except Exception:  # a timer thread has no caller to tell
        logger.exception("push catch-up failed")
    finally:
        connection.close()  # this timer thread's own connection, opened by the lookup
    logger.info("push catch-up sent jobs=%s groups=%s", len(missed), len(missed_events))


async def _asend(groups: list[str], event: dict, refresh: Refresh | None = None) -> bool:
    """Send event to groups within PUSH_TIMEOUT; False (and pause) if that fails."""
    if _is_paused():
        _missed_push(groups, event, refresh)
        return False
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async with asyncio.timeout(app_settings.PUSH_TIMEOUT):
            for group in groups:
                await _group_send(layer, group, event)
    except Exception as exc:  # noqa: BLE001 - any push failure must stay out of the caller
        _pause(groups, exc)
        _missed_push(groups, event, refresh)
        return False
    _delivered(groups, event)
    return True


async def _group_send(layer, group: str, event: dict) -> None:
    """group_send, tried once more if it fails at once (a stale pooled connection; see the docstring)."""
    try:
        await layer.group_send(group, event)
    except Exception as exc:  # noqa: BLE001 - a second failure is the caller's to handle
        logger.info("push retried group=%s error=%r", group, exc)
        await layer.group_send(group, event)


def _send(groups: list[str], event: dict, refresh: Refresh | None = None) -> bool:
    """Send from sync code: on the caller's event loop if it has one, else on the publisher's."""
    if _is_paused():
        _missed_push(groups, event, refresh)
        return False
    if _caller_loop() is not None:
        # Called from sync code run by an event loop (a view under daphne, a test): the
        # layer's connections belong to that loop, so the send runs there.
        return async_to_sync(_asend)(groups, event, refresh)
    future = asyncio.run_coroutine_threadsafe(_asend(groups, event, refresh), _publisher_loop())
    try:
        # _asend bounds itself; this outer limit only guards against a stuck loop.
        return future.result(timeout=app_settings.PUSH_TIMEOUT + 1.0)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        _pause(groups, exc)
        _missed_push(groups, event, refresh)
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
