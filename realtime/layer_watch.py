"""Tell this process's sockets when the channel layer's Redis subscription is lost and when it is back.

channels-redis' pub/sub layer does not reconnect by itself: redis-py does, on the next
read, and re-SUBSCRIBEs every channel and group in one command (PubSub.on_connect). It
accepts on_disconnect/on_reconnect hooks but never calls them, so nobody learns that
every message published in between was lost. This replaces the shard's receive loop
(channels_redis/pubsub.py, RedisSingleShardConnection._do_receiving) with one that puts
{"type": "layer.disconnected"} into every local consumer's queue when a read fails, and
{"type": "layer.reconnected"} at the first subscribe confirmation after that: by then
Redis has processed the re-SUBSCRIBE, so anything published later is delivered, and a
snapshot read on that event leaves no gap. The sockets of realtime/fanout.py hear both
from the fan-out, once each, which meanwhile lets no socket start to follow a group. It
also logs the loss once, not a traceback a second for the length of the outage.
"""

import asyncio
import logging

logger = logging.getLogger(__name__)

DISCONNECTED = "layer.disconnected"
RECONNECTED = "layer.reconnected"


async def _do_receiving(self) -> None:
    while True:
        try:
            if self._pubsub and self._pubsub.subscribed:
                # Subscribe confirmations are wanted: the first after a loss proves the
                # re-SUBSCRIBE (one command for every channel) has been processed.
                message = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=0.1)
                if message is None:
                    continue
                if message["type"] in ("message", "pmessage"):
                    self._receive_message(message)
                elif message["type"] == "subscribe" and getattr(self, "_statusmsg_lost", False):
                    self._statusmsg_lost = False
                    logger.warning("channel layer: Redis subscription restored")
                    tell_local_consumers(self.channel_layer, RECONNECTED)
            else:
                await asyncio.sleep(0.1)
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the connection is gone; redis-py reconnects on the next read
            if not getattr(self, "_statusmsg_lost", False):
                self._statusmsg_lost = True
                logger.warning("channel layer: Redis subscription lost: %r", exc)
                tell_local_consumers(self.channel_layer, DISCONNECTED)
            await asyncio.sleep(1)


def tell_local_consumers(loop_layer, kind: str) -> None:
    """Queue an event of type kind for every consumer of this process (handled in order, like any event).

    The sockets that follow groups through the fan-out hear it from the fan-out, once each,
    not once per group channel it reads.
    """
    from .fanout import running

    fanout = running()
    skipped = set()
    if fanout is not None:
        skipped = fanout.channels
        fanout.layer_status_changed(kind)
    data = loop_layer.channel_layer.serialize({"type": kind})
    for name, queue in list(loop_layer.channels.items()):
        if name not in skipped:
            queue.put_nowait(data)


def watch_layer_connections() -> None:
    """Install the receive loop above into channels-redis' pub/sub layer (idempotent)."""
    from channels_redis import pubsub

    shard = pubsub.RedisSingleShardConnection
    if getattr(shard, "_statusmsg_watched", False):
        return
    shard._do_receiving = _do_receiving
    shard._statusmsg_watched = True
