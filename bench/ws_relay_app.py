"""ASGI app for bench/ws_fanout.py: statusmsg's own app plus /ws/bare/, a consumer that only relays.

The bare consumer is the floor of the serving path (daphne + Channels + the layer): it
joins one group and sends each event's pre-encoded text, with no auth, seq or ownership check.
"""

from channels.generic.websocket import AsyncWebsocketConsumer

from statusmsg.asgi import application as statusmsg_application

BARE_GROUP = "bench.bare"


class BareRelayConsumer(AsyncWebsocketConsumer):
    groups = [BARE_GROUP]

    async def job_update(self, event):
        await self.send(text_data=event["text"])


bare = BareRelayConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/bare"):
        return await bare(scope, receive, send)
    return await statusmsg_application(scope, receive, send)
