"""The job sockets: one job (/ws/bulk-process/<id>), a topic (/ws/progress/<topic>), a user's feed (/ws/tasks/).

Handshake refusals: 4403 for an anonymous user or someone else's job, 4404 for a malformed
or unknown job id. Every socket relays only jobs its user may see (owner or staff).
"""

from .. import db
from ..groups import STAFF_JOBS_GROUP, job_group, topic_group, user_jobs_group
from .base import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, JobStreamConsumer, parse_job_id

MAX_TOPIC_CHARS = 200


class BulkProcessConsumer(JobStreamConsumer):
    """One job: its owner or staff only; its snapshot on connect, then its updates."""

    async def refusal(self) -> int | None:
        self.job_id = self.default_job_id = parse_job_id(self.scope["url_route"]["kwargs"]["job_id"])
        if self.job_id is None:
            return CLOSE_NOT_FOUND
        access = await db.job_access(self.job_id, self.user)
        return {"allowed": None, "forbidden": CLOSE_FORBIDDEN}.get(access, CLOSE_NOT_FOUND)

    def stream_groups(self) -> list[str]:
        return [job_group(self.job_id)]

    async def snapshots(self) -> list[dict]:
        message = await db.visible_task_message(self.job_id, self.user)
        return [message] if message else []

    def established_fields(self) -> dict:
        return {"job_id": self.job_id}


class TopicConsumer(JobStreamConsumer):
    """Every job of a topic (metadata["topic"]) the user may see, including later ones."""

    async def refusal(self) -> int | None:
        self.topic = self.scope["url_route"]["kwargs"]["topic_id"]
        # A topic is at most 200 characters of text (the API's limit): anything else names none,
        # and a NUL byte would make PostgreSQL raise on the snapshot query.
        if len(self.topic) > MAX_TOPIC_CHARS or "\x00" in self.topic:
            return CLOSE_NOT_FOUND
        return None

    def stream_groups(self) -> list[str]:
        return [topic_group(self.topic)]

    async def snapshots(self) -> list[dict]:
        return await db.topic_task_messages(self.topic, self.user)

    def established_fields(self) -> dict:
        return {"topic_id": self.topic}


class TaskFeedConsumer(JobStreamConsumer):
    """The user's own jobs (staff: every job), including ones created after connecting."""

    def stream_groups(self) -> list[str]:
        return [STAFF_JOBS_GROUP if self.user_is_staff else user_jobs_group(self.user_id)]

    async def snapshots(self) -> list[dict]:
        return await db.feed_task_messages(self.user)
