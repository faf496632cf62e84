"""Messages/s delivered to 1,000 sockets by one daphne process and by two, beside bare relays.

Every socket follows one job (/ws/bulk-process/<id>, the real consumer, fed by its process's
fan-out: realtime/fanout.py) or a bare relay (bench/ws_relay_app.py: a Channels consumer with
a channel of its own per socket, /ws/bare/ with Channels' default dispatch, /ws/lean/ without
its per-message thread hop). This process publishes bursts of task.updated events as fast as
the layer takes them and counts deliveries until every socket has the last one. On a small
machine the client here, sharing the cores, bounds the job consumer's figure: a second
daphne process does not raise it.
Run: .venv/bin/python bench/ws_fanout.py [--sockets 1000] [--messages 30]
"""

import argparse
import asyncio
import time

from ws_common import DaphneProcess, job_event, open_sockets, raise_file_limit, setup_django


async def fanout(sockets, group: str, env: dict, messages: int, first_seq: int) -> float:
    """Publish messages events to group; return deliveries/s until every socket got the last."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    last_seq = first_seq + messages - 1
    delivered = 0

    async def listen(ws):
        nonlocal delivered
        while True:
            received = await ws.recv()
            delivered += 1
            # Cheap test for the last one: the seq sits near the start of the text.
            if f'"seq": {last_seq},' in received[:200]:
                return

    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    started = time.perf_counter()
    for seq in range(first_seq, last_seq + 1):
        await layer.group_send(group, job_event(env["job_id"], env["user_id"], seq))
    await asyncio.wait_for(asyncio.gather(*listeners), 600)
    elapsed = time.perf_counter() - started
    assert delivered == messages * len(sockets), (delivered, messages * len(sockets))
    return delivered / elapsed


async def run(processes: int, count: int, messages: int, env: dict) -> dict:
    from realtime.groups import job_group

    servers = [DaphneProcess("bench.ws_relay_app:application") for _ in range(processes)]
    ports = [server.port for server in servers]
    rates = {}
    try:
        for name, path, group in (("bare relay", "/ws/bare/", "bench.bare"),
                                  ("lean relay", "/ws/lean/", "bench.bare"),
                                  ("job consumer", f"/ws/bulk-process/{env['job_id']}", job_group(env["job_id"]))):
            skip = 2 if name == "job consumer" else 0
            sockets = await open_sockets(ports, path, env["token"], count, skip)
            await asyncio.sleep(1)
            await fanout(sockets, group, env, 3, 10)  # warm up (past the snapshot seq)
            rates[name] = await fanout(sockets, group, env, messages, 100)
            await asyncio.gather(*(ws.close() for ws in sockets))
    finally:
        for server in servers:
            server.stop()
    return rates


async def main(count: int, messages: int, env: dict) -> None:
    raise_file_limit(count)
    results = {}
    for processes in (1, 2):
        results[processes] = await run(processes, count, messages, env)
        rates = results[processes]
        print(f"daphne processes={processes}  sockets={count}  messages={messages}:  "
              + "   ".join(f"{name} {rate:6.0f} msgs/s" for name, rate in rates.items())
              + f"   job consumer / bare {rates['job consumer'] / rates['bare relay']:.0%}"
              f"  / lean {rates['job consumer'] / rates['lean relay']:.0%}", flush=True)
    print("two processes / one: " + "   ".join(
        f"{name} {results[2][name] / results[1][name]:.2f}x" for name in results[1]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=30)
    arguments = parser.parse_args()
    environment = setup_django()
    try:
        asyncio.run(main(arguments.sockets, arguments.messages, environment))
    finally:
        environment["database"].unlink(missing_ok=True)
