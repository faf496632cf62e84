"""The live unread badge: /ws/notifications/ tells a user their count and each new notification.

Clients mostly listen; they may send {"type": "ping"}. Bad input is answered with an error
and the socket stays open; frames over 64 KiB and floods close it, as on the job sockets.
"""

from .. import db
from ..groups import ALL_USERS_GROUP, user_group
from .base import CLOSE_FORBIDDEN, GuardedJsonConsumer, refuse_handshake


class NotificationConsumer(GuardedJsonConsumer):
    """Relay notification events to one user's socket, with that user's own unread count."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await refuse_handshake(self, CLOSE_FORBIDDEN)
            return
        self.user, self.user_id = user, user.pk
        self.joined = [user_group(user.pk), ALL_USERS_GROUP]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Join first, then read: a notification committed in between is in the count or
        # arrives as a message (queued until connect returns), never lost; one that is
        # both is recognised by its id (see realtime/unread.py) and counted once.
        self.unread = await db.read_unread_count(user)
        await self.accept()
        await self.send_unread_count()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

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

    async def send_unread_count(self):
        await self.send_json({"type": "unread_count", "count": self.unread.count})
