"""The live unread badge: /ws/notifications/ tells a user their count and each new notification.

Clients mostly listen; they may send {"type": "ping"}. Bad input is answered with an error
and the socket stays open; frames over 64 KiB and floods close it, as on the job sockets.
"""

from channels.db import database_sync_to_async

from notifications import services
from realtime.groups import ALL_USERS_GROUP, user_group

from .base import CLOSE_FORBIDDEN, GuardedJsonConsumer, refuse_handshake


@database_sync_to_async
def unread_count(user) -> int:
    return services.get_unread_count(user)


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
        await self.accept()
        # Join first, then count: a notification committed in between is in the count or
        # arrives as a message (or both, which only repeats the same number), never lost.
        await self.send_unread_count()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def notification_created(self, event):
        # A system-wide notice reaches every user's socket: each counts for its own user.
        await self.send_json({
            "type": "notification",
            "notification": event["notification"],
            "unread_count": await unread_count(self.user),
        })

    async def notifications_changed(self, event):
        await self.send_unread_count()

    async def send_unread_count(self):
        await self.send_json({"type": "unread_count", "count": await unread_count(self.user)})
