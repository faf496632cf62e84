"""Publish -> socket receive latency (p50/p99) at 1, 100 and 1,000 sockets, beside a ping/pong floor.

One daphne process serving statusmsg.asgi; every socket watches the same job on
/ws/bulk-process/<id>. The publisher (this process) group_sends to the job's group through
the settings' channel layer, paced well below the server's fan-out capacity, so the figures
are latency, not queueing. Run: .venv/bin/python bench/ws_latency.py [--sockets 1,100,1000]
"""

import argparse
import asyncio
import json
import time

from ws_common import REDIS_URL, DaphneProcess, job_event, open_sockets, percentile, raise_file_limit, setup_django


async def ping_floor(ws, rounds: int = 60) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await ws.send('{"type": "ping"}')
        while json.loads(await ws.recv())["type"] != "pong":
            pass
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)  # under the socket's 20 msgs/s flood limit
    return times


async def publish_latency(sockets, env, publishes: int, interval: float, first_seq: int) -> list[float]:
    from channels.layers import get_channel_layer

    from realtime.groups import job_group

    layer = get_channel_layer()
    latencies: list[float] = []
    last_seq = first_seq + publishes - 1

    async def listen(ws):
        while True:
            received = await ws.recv()
            now = time.perf_counter()
            message = json.loads(received)
            latencies.append(now - message["sent"])
            if message["seq"] == last_seq:
                return

    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    for seq in range(first_seq, last_seq + 1):
        await layer.group_send(job_group(env["job_id"]), job_event(env["job_id"], env["user_id"], seq))
        await asyncio.sleep(interval)
    await asyncio.wait_for(asyncio.gather(*listeners), 120)
    return latencies


async def main(counts: list[int], env: dict) -> None:
    raise_file_limit(max(counts))
    server = DaphneProcess()
    print(f"daphne pid={server.pid} layer=RedisPubSubChannelLayer redis={REDIS_URL}")
    seq = 1000
    try:
        for count in counts:
            sockets = await open_sockets([server.port], f"/ws/bulk-process/{env['job_id']}", env["token"], count, 2)
            await asyncio.sleep(0.5)
            floor = await ping_floor(sockets[0])
            # Keep deliveries near 1,000/s at most: latency, not a queue behind the fan-out.
            interval = max(0.02, count / 1000)
            publishes = 200 if count == 1 else 50 if count <= 100 else 15
            latencies = await publish_latency(sockets, env, publishes, interval, seq)
            seq += publishes
            p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
            f50, f99 = percentile(floor, 0.5) * 1000, percentile(floor, 0.99) * 1000
            print(f"sockets={count:5d}  publish->receive p50 {p50:7.2f} ms  p99 {p99:7.2f} ms   "
                  f"ping/pong floor p50 {f50:5.2f} ms  p99 {f99:5.2f} ms   p50/floor {p50 / f50:5.1f}x  "
                  f"({len(latencies)} deliveries)", flush=True)
            await asyncio.gather(*(ws.close() for ws in sockets))
    finally:
        server.stop()
        env["database"].unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", default="1,100,1000")
    counts = [int(n) for n in parser.parse_args().sockets.split(",")]
    asyncio.run(main(counts, setup_django()))
