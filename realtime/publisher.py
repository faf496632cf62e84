"""The one publisher: the only code that sends to channel-layer groups.

Callers publish after their transaction commits. A failed push (Redis down) is logged
and swallowed: the database row is the truth and clients catch up from its snapshot.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from .groups import ALL_USERS_GROUP, job_group, topic_group, user_group

logger = logging.getLogger(__name__)


def job_update_message(snapshot: dict, status: str, **fields) -> dict:
    """Return the `job_update` message for a task snapshot."""
    return {
        "type": "job_update",
        "job_id": str(snapshot["id"]),
        "timestamp": timezone.now().isoformat(),
        "status": status,
        "seq": snapshot["seq"],
        "task": snapshot,
        **fields,
    }


def publish_job_update(snapshot: dict, status: str, **fields) -> None:
    """Send a job_update to the job's group and to its topic's group, if it has one."""
    message = job_update_message(snapshot, status, **fields)
    groups = [job_group(message["job_id"])]
    topic = (snapshot.get("metadata") or {}).get("topic")
    if topic:
        groups.append(topic_group(str(topic)))
    for group in groups:
        _group_send(group, {"type": "job.update", "message": message})


def _group_send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception as exc:  # noqa: BLE001 - any push failure must stay out of the job
        logger.warning("push failed group=%s error=%r", group, exc)


def publish_to_user(user_id, event: dict) -> None:
    """Send an event (its "type" names the consumer handler) to every socket of one user."""
    _group_send(user_group(user_id), event)


def publish_to_all_users(event: dict) -> None:
    """Send an event to every user's sockets (system-wide notices)."""
    _group_send(ALL_USERS_GROUP, event)
