"""The base of every socket: who it is for, what its client may send, and what it leaves behind.

A GuardedJsonConsumer authenticates (refusing with a close code the client can read),
counts itself against the user's socket limit, joins its user's auth group (so that a
logout closes it, see realtime/revocation.py), reads JSON messages within guard's
limits, and on any end, a crash included, leaves every group it joined. It follows groups
through its process's fan-out (realtime/fanout.py), not through a channel of its own, and
handles its client's messages and its groups' events one at a time, in arrival order.
"""

import asyncio
import collections
import contextlib
import json
import logging
import uuid

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from .. import daphne_compat, fanout, guard, revocation, socket_slots
from ..connection_stats import stats
from ..groups import auth_group

logger = logging.getLogger(__name__)

# Close codes; realtime/PROTOCOL.md says what a client does on each.
CLOSE_POLICY_VIOLATION = 1008  # flooding
CLOSE_TOO_BIG = 1009
CLOSE_SERVICE_RESTART = 1012  # the server lost its event stream: reconnect for a fresh snapshot
CLOSE_TRY_AGAIN_LATER = 1013  # the channel layer is down: no socket can follow anything yet
CLOSE_REVOKED = 4401  # logged out, password changed or token deleted
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4429

# How long a dying socket may spend leaving its groups.
LEAVE_TIMEOUT = 2.0


async def refuse_handshake(consumer, code: int) -> None:
    """Refuse a socket so that the client sees why: accept, then close at once with code.

    A close before accept reaches a client as a bare HTTP 403, which a browser reports as
    close code 1006, the same as a network failure, so it would retry forever. Accepting
    first sends no data; the client gets the close code and can stop.
    """
    consumer.closing = True
    await consumer.accept()
    await consumer.close(code=code)


async def refuse_unopened(receive, send, code: int) -> None:
    """Refuse a handshake that never reached a consumer: accept, close with code, wait for the end."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})
    while (await receive())["type"] != "websocket.disconnect":
        pass


class GuardedJsonConsumer(AsyncWebsocketConsumer):
    """A socket that reads JSON messages from its client within guard's limits.

    A message {"type": T} calls `on_T(content)` for T in client_message_types; anything
    else gets an error answer and the socket stays open. A frame over guard.MAX_FRAME_BYTES
    closes it with 1009, a flood (of this socket, or of all its user's sockets) with 1008.
    """

    client_message_types: tuple[str, ...] = ("ping",)
    user = None
    user_id = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.closing = False
        self.accepted = False
        self.ready = False  # accepted and sent its snapshot: events may be acted on
        self.joined: set[str] = set()
        self.limiter = guard.RateLimiter()
        self.user_limiter: guard.RateLimiter | None = None
        self.credential: tuple[str, str | None] | None = None
        self.counted = False
        self.opened = False  # counted in this process's connection stats
        # The socket's own name (its slot in socket_slots): it has no channel-layer channel.
        self.socket_id = f"socket.{uuid.uuid4().hex}"
        self.fanout: fanout.Fanout | None = None
        self.protocol = None  # daphne's protocol of this socket, when served by daphne
        # What the socket is to handle, client messages and group events alike, in arrival order.
        self.inbox: collections.deque[dict] = collections.deque()
        self.draining = False
        self.drainer: asyncio.Task | None = None
        self.failure: asyncio.Future | None = None  # set when a handler ends the socket

    async def __call__(self, scope, receive, send):
        """Run the socket: its client's messages and its groups' events, one at a time in arrival order.

        Unlike Channels' AsyncConsumer.__call__, no channel-layer channel is opened per socket:
        group events come through this process's fan-out (realtime/fanout.py), once per process.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        self.protocol = daphne_compat.direct_protocol(send)
        self.failure = asyncio.get_running_loop().create_future()
        try:
            await self.run(receive)
        except StopConsumer:
            pass
        finally:
            if self.drainer is not None:
                self.drainer.cancel()
            # However the consumer ends (a close, a crash in a handler, daphne cancelling a
            # slow one), leave every group: a group followed by no open socket would stay
            # subscribed in Redis for the life of the process.
            await self.leave_everything()

    async def run(self, receive) -> None:
        """Read the client's messages into the socket's queue until a handler ends the socket."""
        while True:
            receiving = asyncio.ensure_future(receive())
            try:
                await asyncio.wait((receiving, self.failure), return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not receiving.done():
                    receiving.cancel()
            if self.failure.done():
                self.failure.result()  # raises what ended the socket: StopConsumer, or a crash
            self.deliver(receiving.result())
            # As Channels does, the next client message is read once this one is handled.
            if self.drainer is not None:
                await asyncio.wait((self.drainer, self.failure), return_when=asyncio.FIRST_COMPLETED)

    def deliver(self, message: dict) -> None:
        """Handle message after everything delivered before it; within this call when the socket is idle.

        The fan-out calls this for each follower in turn: a handler that completes without
        waiting (most relays) costs no task switch, and one that waits (a database read)
        goes on in a task of its own while the fan-out serves the next socket.
        """
        if self.failure is not None and self.failure.done():
            return
        self.inbox.append(message)
        if not self.draining:
            self.draining = True
            drainer = asyncio.Task(self.drain(), loop=asyncio.get_running_loop(), eager_start=True)
            if not drainer.done():
                self.drainer = drainer  # asyncio holds a task weakly; the socket holds it until it ends

    async def drain(self) -> None:
        try:
            while self.inbox:
                await self.dispatch(self.inbox.popleft())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - StopConsumer after a disconnect, or a crash: either ends the socket
            self.inbox.clear()
            if not self.failure.done():
                self.failure.set_exception(exc)
        finally:
            self.draining = False
            self.drainer = None

    def offer_job_update(self, event: dict, frame) -> None:
        """Take a task.updated event from the fan-out (job sockets relay it without a task switch)."""
        self.deliver(event)

    async def accept(self, subprotocol=None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        if not self.closing and not self.opened:  # a refusal accepts only to close at once
            self.opened = True
            stats.opened(self.scope.get("path", ""), self.user_id)

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        await super().send(text_data, bytes_data, close)
        if text_data is not None or bytes_data is not None:
            stats.sent()

    async def leave_everything(self) -> None:
        if self.opened:
            self.opened = False
            stats.closed(self.scope.get("path", ""), self.user_id)
        groups, self.joined = list(self.joined), set()
        if self.fanout is not None and groups:
            emptied = self.fanout.unfollow(groups, self)  # at once: nothing more is delivered here
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(LEAVE_TIMEOUT):
                    await self.fanout.close(emptied)
        if self.counted:
            self.counted = False
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await socket_slots.release(self.user_id, self.socket_id)

    async def authenticate(self) -> int | None:
        """Admit the scope's user: None when the socket may go on, else the close code to refuse with."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return CLOSE_FORBIDDEN
        # Read once: scope["user"] is a lazy proxy, and handlers run per relayed message.
        self.user, self.user_id = user, user.pk
        self.credential = revocation.socket_credential(self.scope)
        if not await socket_slots.claim(self.user_id, self.socket_id):
            return CLOSE_TOO_MANY_SOCKETS
        self.counted = True
        self.user_limiter = guard.user_limiter(self.user_id)
        await self.join(auth_group(self.user_id))
        return None

    async def dispatch(self, message: dict) -> None:
        """Call the message's handler, without Channels' per-message close_old_connections().

        Channels runs close_old_connections() in a thread before every handler: a thread
        hop per relayed message per socket, about half of daphne's CPU in a fan-out
        (bench/ws_fanout.py). Our handlers reach the database only through
        database_sync_to_async, which closes stale connections in its own thread anyway.
        """
        if self.closing and "." in message["type"] and not message["type"].startswith("websocket."):
            stats.dropped()  # an event for a socket that is on its way out: the client never sees it
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except fanout.LayerUnavailable as exc:
            await self.layer_unavailable(exc)

    async def layer_unavailable(self, error: Exception) -> None:
        """A group could not be followed (Redis is down): refuse the handshake 1013, or close an open socket 1012."""
        if self.closing:
            return
        if self.accepted:
            await self.refuse(CLOSE_SERVICE_RESTART, f"channel layer unavailable: {error}")
            return
        # The client retries later; no crashed application (an HTTP 500 and a traceback per attempt).
        logger.warning("refusing socket path=%s: channel layer unavailable: %r", self.scope.get("path"), error)
        await refuse_handshake(self, CLOSE_TRY_AGAIN_LATER)

    async def disconnect(self, code) -> None:
        # daphne (autobahn) closes a frame over the limit itself, and its warning goes to a
        # log daphne discards; say here why the socket ended. Groups are left in __call__.
        if code == CLOSE_TOO_BIG:
            logger.warning("socket closed user=%s path=%s code=%s reason=frame too big", self.user_id,
                           self.scope.get("path"), code)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.closing:
            return
        if guard.frame_size(text_data, bytes_data) > guard.MAX_FRAME_BYTES:
            return await self.refuse(CLOSE_TOO_BIG, "frame too big")
        if not self.limiter.allow():
            return await self.refuse(CLOSE_POLICY_VIOLATION, "too many messages")
        if self.user_limiter is not None and not self.user_limiter.allow():
            return await self.refuse(CLOSE_POLICY_VIOLATION, "too many messages from this user")
        if text_data is None:
            return await self.send_error("Binary frames are not supported; send JSON text.")
        try:
            content = guard.loads(text_data)
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

    # --- events every socket handles ----------------------------------------------------------
    async def auth_revoked(self, event: dict) -> None:
        if not self.closing and self.credential is not None and revocation.revokes(event, self.credential):
            await self.refuse(CLOSE_REVOKED, f"credentials revoked ({event['kind']})")

    async def credentials_hold(self) -> bool:
        """Check the socket's credentials again; close it 4401 and return False when they no longer hold.

        For after a layer outage, during which a revocation may have been lost.
        """
        if await revocation.still_valid(self.scope, self.user_id):
            return True
        await self.refuse(CLOSE_REVOKED, "credentials no longer valid")
        return False

    async def layer_disconnected(self, event: dict) -> None:
        """Keep the socket: nothing can arrive meanwhile, and a new handshake would fail anyway."""

    async def layer_reconnected(self, event: dict) -> None:
        """Events published while the layer was away are lost: check the credentials, then resync."""
        if not self.ready or self.closing:
            return
        try:
            if await self.credentials_hold():
                await self.resync()
        except Exception:
            # The database may be down too: a client that reconnects gets a snapshot later.
            logger.exception("resync failed user=%s path=%s", self.user_id, self.scope.get("path"))
            if not self.closing:
                await self.refuse(CLOSE_SERVICE_RESTART, "resync failed")

    async def resync(self) -> None:
        """Bring the client up to date after a layer outage; by default, make it reconnect for a snapshot.

        Subclasses that can re-read their state in place override this (no reconnect herd).
        """
        await self.refuse(CLOSE_SERVICE_RESTART, "channel layer reconnected")

    # --- helpers ------------------------------------------------------------------------------
    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, cls=DjangoJSONEncoder))

    async def send_error(self, error: str, **fields) -> None:
        await self.send_json({"type": "error", "error": error, **fields})

    async def refuse(self, code: int, reason: str) -> None:
        logger.warning("closing socket user=%s path=%s code=%s reason=%s", self.user_id,
                       self.scope.get("path"), code, reason)
        self.closing = True
        await self.close(code=code)

    async def join(self, group: str) -> None:
        """Follow group through this process's fan-out; raises fanout.LayerUnavailable when Redis is down."""
        if self.fanout is None:
            self.fanout = fanout.for_layer(self.channel_layer)
        # Recorded before the call: a follow that fails half-way is still left in __call__.
        self.joined.add(group)
        await self.fanout.follow(group, self)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.fanout.close(self.fanout.unfollow([group], self))
