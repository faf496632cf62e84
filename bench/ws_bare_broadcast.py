"""The floor for bench/ws_latency.py: a bare broadcast server on the `websockets` library, nothing else.

No Django, no Channels, no Redis: every socket that connects is a subscriber, except one on
/publish, whose every message goes out to all subscribers with websockets' own broadcast()
(one frame encoded once, written to each socket). A subscriber's {"type": "ping"} gets a
pong, for the ping/pong floor. Run by ws_latency.py as `python bench/ws_bare_broadcast.py PORT`.
"""

import asyncio
import json
import sys

from websockets.asyncio.server import broadcast, serve

subscribers = set()


async def handler(websocket) -> None:
    if websocket.request.path == "/publish":
        async for message in websocket:
            broadcast(subscribers, message)
        return
    subscribers.add(websocket)
    try:
        async for message in websocket:
            if json.loads(message).get("type") == "ping":
                await websocket.send('{"type": "pong"}')
    finally:
        subscribers.discard(websocket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, ping_interval=None, compression=None, max_queue=None,
                     backlog=2048) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
