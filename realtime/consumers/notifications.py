"""The live unread badge: /ws/notifications/ tells a user their count and each new notification.

Clients mostly listen; they may send {"type": "ping"}. Bad input is answered with an error
and the socket stays open; frames over 64 KiB and floods close it, as on the job sockets.
"""

from .. import db
from ..groups import ALL_USERS_GROUP, user_group
from .guarded import GuardedJsonConsumer, refuse_handshake


class NotificationConsumer(GuardedJsonConsumer):
    """Relay notification events to one user's socket, with that user's own unread count."""

    async def connect(self):
        code = await self.authenticate()
        if code:
            await refuse_handshake(self, code)
            return
        for group in (user_group(self.user_id), ALL_USERS_GROUP):
            await self.join(group)
        # Join first, then read: a notification committed in between is in the count or
        # arrives as a message (queued until connect returns), never lost; one that is
        # both is recognised by its id (see realtime/unread.py) and counted once.
        self.unread = await db.read_unread_count(self.user)
        await self.accept()
        await self.send_unread_count()
        self.ready = True

    async def notification_created(self, event):
        # A system-wide notice reaches every user's socket at once: each adds it to its own
        # user's count without a query, unless only a fresh read can tell.
        if not self.unread.add_new(event["notification"]):
            self.unread = await db.read_unread_count(self.user)
        await self.send_json({
            "type": "notification",
            "notification": event["notification"],
            "unread_count": self.unread.count,
        })

    async def notifications_changed(self, event):
        self.unread = await db.read_unread_count(self.user)
        await self.send_unread_count()

    async def resync(self):
        # Notifications published while the layer was away are lost: count again.
        await self.notifications_changed({"type": "notifications.changed"})

    async def send_unread_count(self):
        await self.send_json({"type": "unread_count", "count": self.unread.count})
