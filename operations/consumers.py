"""/ws/system/: the staff system page's socket, sent the system status every few seconds.

The status is read from the database and the shared cache, never from a channel-layer event,
so the page stays right across processes and Redis outages: each message is a full snapshot.
"""

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async

from realtime.consumers.guarded import CLOSE_FORBIDDEN, CLOSE_SERVICE_RESTART, GuardedJsonConsumer, refuse_handshake

from .status import system_status

SEND_EVERY = 3.0  # seconds

logger = logging.getLogger(__name__)


class SystemStatusConsumer(GuardedJsonConsumer):
    """Staff only (4403 for others): a `system_status` message on connect and every SEND_EVERY s."""

    async def connect(self) -> None:
        code = await self.authenticate()
        if code is None and not self.user.is_staff:
            code = CLOSE_FORBIDDEN
        if code:
            await refuse_handshake(self, code)
            return
        await self.accept()
        self.ready = True
        self.sender = asyncio.ensure_future(self.send_forever())

    async def send_forever(self) -> None:
        while not self.closing:
            try:
                status = await database_sync_to_async(system_status)()
            except Exception:
                # The database may be away: say so and make the page reconnect (and re-read)
                # rather than leave it open and silent.
                logger.exception("system status read failed")
                await self.refuse(CLOSE_SERVICE_RESTART, "status read failed")
                return
            await self.send_json({"type": "system_status", "status": status})
            await asyncio.sleep(SEND_EVERY)

    async def disconnect(self, code) -> None:
        sender = getattr(self, "sender", None)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        await super().disconnect(code)

    async def resync(self) -> None:
        """Nothing to catch up: the next message is a full snapshot anyway."""
