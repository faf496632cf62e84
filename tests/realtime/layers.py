"""Channel layers that misbehave the way a sick Redis does, for the publisher tests."""

import asyncio
import threading


class RecordingLayer:
    """Remember every group_send (from any thread or loop)."""

    sent: list = []
    lock = threading.Lock()

    def __init__(self, **config):
        pass

    async def group_send(self, group, message):
        with self.lock:
            RecordingLayer.sent.append((group, message))


class FailingLayer(RecordingLayer):
    """Refuse every send at once, like a Redis that is down (connection refused)."""

    async def group_send(self, group, message):
        await super().group_send(group, message)
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class HangingLayer(RecordingLayer):
    """Never finish a send, like a Redis that accepted the connection and froze."""

    async def group_send(self, group, message):
        await super().group_send(group, message)
        await asyncio.sleep(3600)


class StaleOnceLayer(RecordingLayer):
    """Fail the first send only, like a pooled connection to a Redis that has since restarted."""

    failed = False

    async def group_send(self, group, message):
        await super().group_send(group, message)
        if not StaleOnceLayer.failed:
            StaleOnceLayer.failed = True
            raise ConnectionError("Connection closed by server.")


class UnreachableLayer(RecordingLayer):
    """Open no channel, like the pub/sub layer while Redis is down (new_channel subscribes in Redis)."""

    async def new_channel(self, prefix="specific."):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
