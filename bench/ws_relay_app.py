"""ASGI app for bench/ws_fanout.py: statusmsg's own app plus /ws/bare/ and /ws/lean/, bare relays.

The bare consumer is Channels' own way to relay (daphne + Channels + the layer, a channel
per socket): it joins one group and sends each event's pre-encoded text, with no auth, seq or
ownership check. The job sockets follow their groups through a per-process fan-out instead
(realtime/fanout.py), which is why they outrun it.
"""

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from statusmsg.asgi import application as statusmsg_application

BARE_GROUP = "bench.bare"


class BareRelayConsumer(AsyncWebsocketConsumer):
    """Channels' default dispatch: a close_old_connections() thread hop before every handler."""

    groups = [BARE_GROUP]

    async def task_updated(self, event):
        await self.send(text_data=event["text"])


class LeanRelayConsumer(BareRelayConsumer):
    """The same relay with the dispatch the job sockets use (no per-message thread hop)."""

    async def dispatch(self, message):
        await getattr(self, get_handler_name(message))(message)


bare = BareRelayConsumer.as_asgi()
lean = LeanRelayConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/bare"):
        return await bare(scope, receive, send)
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/lean"):
        return await lean(scope, receive, send)
    return await statusmsg_application(scope, receive, send)
