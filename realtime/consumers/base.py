"""The base of the job sockets: handshake, snapshots, relaying by seq, and the client's job messages."""

import json
import uuid

from django.utils import timezone

from jobs.models import may_see

from .. import daphne_compat, db
from ..connection_stats import stats
from ..groups import job_group
from .guarded import (  # noqa: F401 - re-exported for the job consumers
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_POLICY_VIOLATION,
    CLOSE_TOO_BIG,
    GuardedJsonConsumer,
    refuse_handshake,
)

JOB_MESSAGE_TYPES = ("ping", "get_status", "subscribe_job", "unsubscribe_job")
# A socket remembers the last seq it sent per job; past this many jobs it forgets the oldest.
SEQ_MEMORY = 10_000
# ... and the last message it sent of this many jobs, to answer get_status without a query.
LATEST_MEMORY = 200


def parse_job_id(value) -> str | None:
    """Return the canonical form of a job id, or None when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _remember(memory: dict, key, value, limit: int) -> None:
    """Store key last in memory (a dict in recency order), forgetting the oldest half past limit."""
    memory.pop(key, None)
    memory[key] = value
    if len(memory) > limit:
        for stale in list(memory)[: limit // 2]:
            del memory[stale]


class JobStreamConsumer(GuardedJsonConsumer):
    """Relay job_updates the user may see, never one older than what the socket already sent.

    Subclasses say which groups to follow (`stream_groups`), what to send on connect
    (`snapshots`), and may refuse the handshake (`refusal`).
    """

    client_message_types = JOB_MESSAGE_TYPES
    default_job_id: str | None = None  # the job get_status reports when the client names none

    async def connect(self) -> None:
        self.sent_seq: dict[str, int] = {}
        self.latest: dict[str, str | dict] = {}  # job id -> the last message sent (JSON text or dict)
        self.muted: set[str] = set()
        self.subscribed_jobs: set[str] = set()
        code = await self.authenticate()
        if code is None:
            # Read once: handlers run per relayed message.
            self.user_is_staff = self.user.is_staff
            code = await self.refusal()
        if code:
            await refuse_handshake(self, code)
            return
        # Join first, read the snapshot second: an update committed after the read reaches
        # us through the group (queued until connect returns, then dropped or sent by seq);
        # one committed before it is in the snapshot. Nothing falls in between.
        for group in self.stream_groups():
            await self.join(group)
        snapshots = await self.snapshots()
        await self.accept()
        await self.send_json({"type": "connection_established", "status": "connected",
                              "timestamp": timezone.now().isoformat(), **self.established_fields()})
        for message in snapshots:
            await self.relay_message(message)
        self.ready = True

    # --- hooks --------------------------------------------------------------------------------
    async def refusal(self) -> int | None:
        return None

    def stream_groups(self) -> list[str]:
        return []

    async def snapshots(self) -> list[dict]:
        return []

    def established_fields(self) -> dict:
        return {}

    # --- client messages ----------------------------------------------------------------------
    async def on_get_status(self, content: dict) -> None:
        job_id = await self.message_job_id(content, default=self.default_job_id)
        if job_id is None:
            return
        # The last message this socket sent of the job is as new as anything it may say;
        # only a job it has not sent yet costs a query (bounded by the message rate).
        message = self.latest.get(job_id)
        if isinstance(message, str):
            message = json.loads(message)
        if message is None:
            message = await db.visible_task_message(job_id, self.user)
            if message is None:
                return await self.send_error(f"No such job: {job_id}", job_id=job_id)
            if self.advance(job_id, message["seq"]):  # nothing older may follow it
                _remember(self.latest, job_id, message, LATEST_MEMORY)
        await self.send_json({"type": "status_request", "job_id": job_id, "status": message["task"]["status"],
                              "seq": message["seq"], "task": message["task"]})

    async def on_subscribe_job(self, content: dict) -> None:
        job_id = await self.message_job_id(content)
        if job_id is None:
            return
        await self.join(job_group(job_id))  # before the read, as on connect
        message = await db.visible_task_message(job_id, self.user)
        if message is None:
            await self.leave(job_group(job_id))
            return await self.send_error(f"No such job: {job_id}", job_id=job_id)
        self.muted.discard(job_id)
        self.subscribed_jobs.add(job_id)
        await self.send_json({"type": "subscribed", "job_id": job_id})
        await self.relay_message(message, resend=True)

    async def on_unsubscribe_job(self, content: dict) -> None:
        job_id = await self.message_job_id(content)
        if job_id is None:
            return
        await self.leave(job_group(job_id))
        self.subscribed_jobs.discard(job_id)
        self.muted.add(job_id)  # also silences it when it comes through a topic or feed group
        await self.send_json({"type": "unsubscribed", "job_id": job_id})

    async def message_job_id(self, content: dict, default=None) -> str | None:
        """Return the message's job id in canonical form, or answer with an error and None."""
        raw = content.get("job_id", default)
        if raw is None:
            await self.send_error(f"'{content['type']}' needs a job_id.")
            return None
        job_id = parse_job_id(raw) if isinstance(raw, str) else None
        if job_id is None:
            await self.send_error(f"Not a job id: {raw!r}")
        return job_id

    # --- relaying -----------------------------------------------------------------------------
    async def task_updated(self, event: dict) -> None:
        """Relay a task.updated event's job_update (pre-encoded by the publisher) if it is news."""
        if self.take_job_update(event):
            await self.send(text_data=event["text"])

    def offer_job_update(self, event: dict, frame) -> None:
        """Relay a task.updated event from the fan-out at once, framed once per process, when the socket is idle.

        Idle: served by daphne, and handling nothing (no handler waiting, nothing queued), so
        writing now keeps the socket's order. Otherwise the event queues like any other.
        """
        if self.protocol is None or self.draining or self.inbox or self.failure.done():
            return self.deliver(event)
        if self.closing:
            stats.dropped()
        elif self.take_job_update(event) and daphne_compat.send_prepared(
                self.protocol, frame.prepared(daphne_compat.prepare_text)):
            stats.sent()

    def take_job_update(self, event: dict) -> bool:
        """Record a task.updated event as sent if this socket relays it: a job its user may see, not muted, news."""
        if not may_see(self.user_id, self.user_is_staff, event.get("owner_id")):
            return False
        if event["job_id"] in self.muted or not self.advance(event["job_id"], event["seq"]):
            return False
        _remember(self.latest, event["job_id"], event["text"], LATEST_MEMORY)
        return True

    async def relay_message(self, message: dict, resend: bool = False) -> None:
        """Send a job_update built here (a snapshot) if it is news (or, resend, not older)."""
        job_id, seq = message["job_id"], message["seq"]
        if resend and seq == self.sent_seq.get(job_id):
            return await self.send_json(message)
        if self.advance(job_id, seq):
            _remember(self.latest, job_id, message, LATEST_MEMORY)
            await self.send_json(message)

    async def resync(self) -> None:
        """Re-send the snapshot of everything this socket follows: updates published meanwhile were lost.

        The layer says so only once Redis has confirmed the re-subscription, so an update
        published after this read reaches the socket too; seq drops what it already sent.
        """
        messages = await self.snapshots()
        for job_id in list(self.subscribed_jobs):
            if message := await db.visible_task_message(job_id, self.user):
                messages.append(message)
        for message in messages:
            if message["job_id"] not in self.muted:
                await self.relay_message(message)

    def advance(self, job_id: str, seq: int) -> bool:
        """Record seq as sent for job_id; False when the socket already sent it or a newer one."""
        if seq <= self.sent_seq.get(job_id, 0):
            return False
        _remember(self.sent_seq, job_id, seq, SEQ_MEMORY)
        return True
