"""Names of the channel-layer groups, shared by the publisher and the consumers."""

import hashlib
import re

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def job_group(job_id) -> str:
    return f"job.{job_id}"


def topic_group(topic: str) -> str:
    # Group names allow only ASCII letters, digits, '-', '_' and '.', under 100 chars;
    # a digest keeps arbitrary topic names distinct and within the limit.
    readable = _SAFE.sub("_", topic)[:40]
    digest = hashlib.sha1(topic.encode()).hexdigest()[:16]
    return f"topic.{readable}.{digest}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def user_jobs_group(user_id) -> str:
    """Return the group that carries every job_update of the jobs user_id owns."""
    return f"jobs.user.{user_id}"


ALL_USERS_GROUP = "users.all"
# Every job_update of every job: the feed of staff sockets, who may see all jobs.
STAFF_JOBS_GROUP = "jobs.staff"


def auth_group(user_id) -> str:
    """Return the group every socket of user_id joins, whatever it follows: it hears auth.revoked."""
    return f"auth.user.{user_id}"
