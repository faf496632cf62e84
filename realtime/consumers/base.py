"""The base of every socket (client messages and their guards) and of the job sockets (handshake, relay)."""

import json
import logging
import uuid

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from .. import db, guard
from ..groups import job_group

logger = logging.getLogger(__name__)

# Close codes of a refused handshake (see refuse_handshake), and of a misbehaving client.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_POLICY_VIOLATION = 1008  # flooding
CLOSE_TOO_BIG = 1009

JOB_MESSAGE_TYPES = ("ping", "get_status", "subscribe_job", "unsubscribe_job")
# A socket remembers the last seq it sent per job; past this many jobs it forgets the oldest.
SEQ_MEMORY = 10_000


async def refuse_handshake(consumer, code: int) -> None:
    """Refuse a socket so that the client sees why: accept, then close at once with code.

    A close before accept reaches a client as a bare HTTP 403, which a browser reports as
    close code 1006, the same as a network failure, so it would retry forever. Accepting
    first sends no data; the client gets the close code and can stop.
    """
    await consumer.accept()
    await consumer.close(code=code)


def parse_job_id(value) -> str | None:
    """Return the canonical form of a job id, or None when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


class GuardedJsonConsumer(AsyncWebsocketConsumer):
    """A socket that reads JSON messages from its client within guard's limits.

    A message {"type": T} calls `on_T(content)` for T in client_message_types; anything
    else gets an error answer and the socket stays open. A frame over guard.MAX_FRAME_BYTES
    closes it with 1009, a flood with 1008. Subclasses set `user_id` once authenticated.
    """

    client_message_types: tuple[str, ...] = ("ping",)
    user_id = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.closing = False
        self.limiter = guard.RateLimiter()

    async def dispatch(self, message: dict) -> None:
        """Call the message's handler, without Channels' per-message close_old_connections().

        Channels runs close_old_connections() in a thread before every handler: a thread
        hop per relayed message per socket, about half of daphne's CPU in a fan-out
        (bench/ws_fanout.py). Our handlers reach the database only through
        database_sync_to_async, which closes stale connections in its own thread anyway.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.closing:
            return
        if guard.frame_size(text_data, bytes_data) > guard.MAX_FRAME_BYTES:
            return await self.refuse(CLOSE_TOO_BIG, "frame too big")
        if not self.limiter.allow():
            return await self.refuse(CLOSE_POLICY_VIOLATION, "too many messages")
        if text_data is None:
            return await self.send_error("Binary frames are not supported; send JSON text.")
        try:
            content = json.loads(text_data)
        except ValueError as exc:
            return await self.send_error(f"Malformed JSON: {exc}")
        if not isinstance(content, dict):
            return await self.send_error("Expected a JSON object with a 'type'.")
        kind = content.get("type")
        if kind not in self.client_message_types:
            return await self.send_error(f"Unknown message type {kind!r}; expected one of: "
                                         f"{', '.join(self.client_message_types)}.")
        await getattr(self, f"on_{kind}")(content)

    async def on_ping(self, content: dict) -> None:
        await self.send_json({"type": "pong", "timestamp": timezone.now().isoformat()})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, cls=DjangoJSONEncoder))

    async def send_error(self, error: str, **fields) -> None:
        await self.send_json({"type": "error", "error": error, **fields})

    async def refuse(self, code: int, reason: str) -> None:
        logger.warning("closing socket user=%s path=%s code=%s reason=%s", self.user_id,
                       self.scope.get("path"), code, reason)
        self.closing = True
        await self.close(code=code)


class JobStreamConsumer(GuardedJsonConsumer):
    """Relay job_updates the user may see, never one older than what the socket already sent.

    Subclasses say which groups to follow (`stream_groups`), what to send on connect
    (`snapshots`), and may refuse the handshake (`refusal`).
    """

    client_message_types = JOB_MESSAGE_TYPES
    default_job_id: str | None = None  # the job get_status reports when the client names none

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.sent_seq: dict[str, int] = {}
        self.muted: set[str] = set()
        self.joined: set[str] = set()
        if self.user is None or not self.user.is_authenticated:
            await refuse_handshake(self, CLOSE_FORBIDDEN)
            return
        # Read once: scope["user"] is a lazy proxy, and job_update runs per relayed message.
        self.user_id, self.user_is_staff = self.user.pk, self.user.is_staff
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

    async def disconnect(self, code) -> None:
        for group in list(getattr(self, "joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

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
        message = await db.visible_task_message(job_id, self.user)
        if message is None:
            return await self.send_error(f"No such job: {job_id}", job_id=job_id)
        self.advance(job_id, message["seq"])  # read from the database: nothing older may follow
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
        await self.send_json({"type": "subscribed", "job_id": job_id})
        await self.relay_message(message, resend=True)

    async def on_unsubscribe_job(self, content: dict) -> None:
        job_id = await self.message_job_id(content)
        if job_id is None:
            return
        await self.leave(job_group(job_id))
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
    async def job_update(self, event: dict) -> None:
        """Relay a job_update from a group (pre-encoded by the publisher) if it is news."""
        if not (self.user_is_staff or event.get("owner_id") == self.user_id):
            return
        if event["job_id"] in self.muted or not self.advance(event["job_id"], event["seq"]):
            return
        await self.send(text_data=event["text"])

    async def relay_message(self, message: dict, resend: bool = False) -> None:
        """Send a job_update built here (a snapshot) if it is news (or, resend, not older)."""
        job_id, seq = message["job_id"], message["seq"]
        if resend and seq == self.sent_seq.get(job_id):
            return await self.send_json(message)
        if self.advance(job_id, seq):
            await self.send_json(message)

    def advance(self, job_id: str, seq: int) -> bool:
        """Record seq as sent for job_id; False when the socket already sent it or a newer one."""
        if seq <= self.sent_seq.get(job_id, 0):
            return False
        self.sent_seq.pop(job_id, None)  # re-insert at the end: the dict's order is recency
        self.sent_seq[job_id] = seq
        if len(self.sent_seq) > SEQ_MEMORY:
            for stale in list(self.sent_seq)[: SEQ_MEMORY // 2]:
                del self.sent_seq[stale]
        return True

    # --- helpers ------------------------------------------------------------------------------
    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)
