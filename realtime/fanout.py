"""One channel-layer subscription per group per process, fanned out in process to the sockets that follow it.

A socket does not open a channel of its own: it follows groups through its event loop's
Fanout, which subscribes each group once (a channel of its own per group, so that a
received event says which group it came through), and hands every event to each follower
in turn. An event is deserialized once per process, and a job update is framed once (see
JobStreamConsumer.offer_job_update) instead of once per socket. A group is unsubscribed
when its last follower leaves.

Ordering: each socket handles what it is given one at a time, in the order given (its own
queue, see GuardedJsonConsumer.deliver), as it did with a channel of its own.

While the layer has lost Redis (realtime/layer_watch.py says so), no socket may start to
follow anything: follow() raises LayerUnavailable, and a handshake is refused with 1013.
"""

import asyncio
import contextlib
import contextvars
import logging
import weakref
from typing import Protocol

logger = logging.getLogger(__name__)

TASK_UPDATED = "task.updated"  # the publisher's job event; its followers may take it without a task switch


class LayerUnavailable(Exception):
    """The channel layer cannot subscribe a group now (Redis is down)."""


class Follower(Protocol):
    def deliver(self, message: dict) -> None: ...

    def offer_job_update(self, event: dict, frame: "Frame") -> None: ...


class Frame:
    """An event's text, encoded to bytes once for every socket that relays it (on first use)."""

    __slots__ = ("_prepared", "text")

    def __init__(self, text: str):
        self.text = text
        self._prepared = None

    def prepared(self, prepare):
        if self._prepared is None:
            self._prepared = prepare(self.text)
        return self._prepared


class _Subscription:
    __slots__ = ("channel", "followers", "group", "opening", "receiver")

    def __init__(self, group: str):
        self.group = group
        self.followers: dict[Follower, None] = {}  # a dict: ordered, so sockets are served in join order
        self.channel: str | None = None
        self.opening: asyncio.Future | None = None
        self.receiver: asyncio.Task | None = None


class Fanout:
    """The group subscriptions of one event loop's sockets on one channel layer."""

    def __init__(self, layer):
        self.layer = layer
        self.subscriptions: dict[str, _Subscription] = {}
        self.channels: set[str] = set()  # the layer channels this fan-out reads
        self.connected = True
        self._background: set[asyncio.Task] = set()

    async def follow(self, group: str, follower: Follower) -> None:
        """Deliver group's events to follower from now on; raise LayerUnavailable if the group cannot be subscribed."""
        # Refused while the layer is known to have lost Redis; with nothing subscribed at all
        # there is no connection to hear its return on, and subscribing is itself the test.
        if not self.connected and self.subscriptions:
            raise LayerUnavailable("the channel layer lost its Redis connection")
        subscription = self.subscriptions.get(group)
        if subscription is None:
            subscription = self.subscriptions[group] = _Subscription(group)
            subscription.opening = asyncio.ensure_future(self._open(subscription))
        subscription.followers[follower] = None
        # Every follower waits for the subscription itself, not only the first: a socket
        # reads its snapshot after this returns, and an event published before Redis took
        # the SUBSCRIBE would be in neither.
        try:
            await asyncio.shield(subscription.opening)
        except BaseException:
            subscription.followers.pop(follower, None)
            if self.subscriptions.get(group) is subscription and not subscription.followers:
                # The last waiter gave up (or the opening failed): unsubscribe once it is done.
                del self.subscriptions[group]
                self._in_background(self.close([subscription]))
            raise

    def unfollow(self, groups, follower: Follower) -> list[_Subscription]:
        """Stop delivering groups' events to follower at once; return the subscriptions left without followers.

        Synchronous, so that a socket that is going away hears nothing more whatever happens
        to the unsubscribes; the caller awaits close() on what this returns.
        """
        emptied = []
        for group in groups:
            subscription = self.subscriptions.get(group)
            if subscription is None or follower not in subscription.followers:
                continue
            del subscription.followers[follower]
            if not subscription.followers:
                del self.subscriptions[group]
                emptied.append(subscription)
        return emptied

    async def close(self, subscriptions: list[_Subscription]) -> None:
        """Unsubscribe groups that no socket follows any more."""
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await asyncio.shield(subscription.opening)
            if subscription.receiver is not None:
                subscription.receiver.cancel()  # channels-redis unsubscribes the channel as its receive ends
            if subscription.channel is not None:
                self.channels.discard(subscription.channel)
                try:
                    await self.layer.group_discard(subscription.group, subscription.channel)
                except Exception as exc:  # noqa: BLE001 - Redis forgets it when the connection goes anyway
                    logger.warning("fan-out unsubscribe failed group=%s error=%r", subscription.group, exc)

    def layer_status_changed(self, kind: str) -> None:
        """Tell every socket of this fan-out, once each, that the layer lost or regained Redis."""
        from .layer_watch import RECONNECTED

        self.connected = kind == RECONNECTED
        followers = {}
        for subscription in list(self.subscriptions.values()):
            followers.update(subscription.followers)
        for follower in followers:
            follower.deliver({"type": kind})

    def _in_background(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)  # asyncio holds a task weakly
        task.add_done_callback(self._background.discard)

    async def _open(self, subscription: _Subscription) -> None:
        try:
            subscription.channel = await self.layer.new_channel()
            self.channels.add(subscription.channel)
            # Reading from the start: its end is also what unsubscribes the channel (channels-redis).
            # A context of its own, not that of the socket that happened to follow the group first.
            subscription.receiver = asyncio.get_running_loop().create_task(self._receive(subscription),
                                                                          context=contextvars.Context())
            await self.layer.group_add(subscription.group, subscription.channel)
        except Exception as exc:
            if subscription.receiver is not None:
                subscription.receiver.cancel()
            if subscription.channel is not None:
                self.channels.discard(subscription.channel)
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(subscription.group, subscription.channel)
            raise LayerUnavailable(f"cannot subscribe group={subscription.group}: {exc!r}") from exc

    async def _receive(self, subscription: _Subscription) -> None:
        while True:
            try:
                message = await self.layer.receive(subscription.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a layer that reads from Redis may fail; try again
                logger.warning("fan-out receive failed group=%s error=%r", subscription.group, exc)
                await asyncio.sleep(1)
                continue
            self._dispatch(subscription, message)

    def _dispatch(self, subscription: _Subscription, message: dict) -> None:
        # A copy of the followers: a handler run from here may leave the group.
        followers = tuple(subscription.followers)
        job_update = message.get("type") == TASK_UPDATED and isinstance(message.get("text"), str)
        frame = Frame(message["text"]) if job_update else None
        for follower in followers:
            try:
                if job_update:
                    follower.offer_job_update(message, frame)
                else:
                    follower.deliver(dict(message))  # each its own, as from a channel of its own
            except Exception:  # one socket's failure must not cost the others their event
                logger.exception("fan-out delivery failed group=%s type=%s", subscription.group, message.get("type"))


# One fan-out per event loop (a layer's connections belong to the loop that opened them).
_fanouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def for_layer(layer) -> Fanout:
    """Return the running loop's fan-out on layer."""
    loop = asyncio.get_running_loop()
    fanout = _fanouts.get(loop)
    if fanout is None or fanout.layer is not layer:
        fanout = _fanouts[loop] = Fanout(layer)
    return fanout


def running() -> Fanout | None:
    """Return the running loop's fan-out, if any socket has used one."""
    return _fanouts.get(asyncio.get_running_loop())
