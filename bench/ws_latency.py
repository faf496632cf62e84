"""Publish -> socket receive latency (p50/p99) at 1, 100 and 1,000 sockets, beside two floors.

One daphne process serving statusmsg.asgi; every socket watches the same job on
/ws/bulk-process/<id>. The publisher (this process) group_sends to the job's group through
the settings' channel layer, paced well below the server's fan-out capacity, so the figures
are latency, not queueing. The floors, measured by the same client in the same run:
  - ping/pong on one of those sockets (a round trip through daphne and the consumer);
  - a bare broadcast server (bench/ws_bare_broadcast.py: the `websockets` library's own
    broadcast(), no Django, no Channels, no Redis), the same number of sockets, the same
    events at the same pace, published over one socket of its own.
Targets: p50 <= 1.5x and p99 <= 2x the bare broadcast at 100 sockets; p50 <= 2x at 1,000.

Run: .venv/bin/python bench/ws_latency.py [--sockets 1,100,1000] [--repeat 1] [--relay]
(Redis at REDIS_URL, default redis://127.0.0.1:6379/1; a throwaway SQLite file under var/bench/)
"""

import argparse
import asyncio
import json
import statistics
import time

from ws_common import REDIS_URL, DaphneProcess, job_event, open_sockets, percentile, raise_file_limit, setup_django

TARGETS = {100: (1.5, 2.0), 1000: (2.0, None)}  # sockets: (p50 ratio, p99 ratio) vs the bare broadcast


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


async def publish_latency(sockets, publish, publishes: int, interval: float, first_seq: int) -> list[float]:
    """Call publish(seq) publishes times, interval apart; return every socket's receive latencies."""
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
        await publish(seq)
        await asyncio.sleep(interval)
    await asyncio.wait_for(asyncio.gather(*listeners), 120)
    return latencies


def pace(count: int) -> tuple[int, float]:
    """Return (publishes, interval): deliveries near 1,000/s at most, latency not a queue."""
    return (200 if count == 1 else 50 if count <= 100 else 15), max(0.02, count / 1000)


async def measure_daphne(server, env: dict, count: int, seq: int, relay: bool = False
                         ) -> tuple[list[float], list[float]]:
    from channels.layers import get_channel_layer

    from realtime.groups import job_group

    layer = get_channel_layer()
    group = "bench.bare" if relay else job_group(env["job_id"])

    async def publish(number):
        await layer.group_send(group, job_event(env["job_id"], env["user_id"], number))

    path = "/ws/lean/" if relay else f"/ws/bulk-process/{env['job_id']}"
    sockets = await open_sockets([server.port], path, env["token"], count, 0 if relay else 2)
    try:
        await asyncio.sleep(0.5)
        floor = [] if relay else await ping_floor(sockets[0])
        latencies = await publish_latency(sockets, publish, *pace(count), seq)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    return latencies, floor


async def measure_bare(server, env: dict, count: int, seq: int) -> list[float]:
    import websockets

    publisher = await websockets.connect(f"ws://127.0.0.1:{server.port}/publish", compression=None,
                                         ping_interval=None)

    async def publish(number):
        await publisher.send(job_event(env["job_id"], env["user_id"], number)["text"])

    sockets = await open_sockets([server.port], "/", env["token"], count, 0)
    try:
        await asyncio.sleep(0.5)
        return await publish_latency(sockets, publish, *pace(count), seq)
    finally:
        await asyncio.gather(*(ws.close() for ws in [*sockets, publisher]))


def verdict(name: str, ratio: float, target: float | None) -> str:
    if target is None:
        return f"  {name} {ratio:.1f}x"
    return f"  {name} {ratio:.1f}x (target <= {target}x: {'met' if ratio <= target else 'missed'})"


def ms(values: list[float], fraction: float) -> float:
    return percentile(values, fraction) * 1000


async def main(counts: list[int], repeat: int, env: dict, relay: bool) -> None:
    raise_file_limit(max(counts) + 10)
    server, bare = DaphneProcess(), DaphneProcess.bare_broadcast()
    relay_server = DaphneProcess("bench.ws_relay_app:application") if relay else None
    print(f"daphne pid={server.pid} layer=RedisPubSubChannelLayer redis={REDIS_URL}; "
          f"bare broadcast pid={bare.pid} (websockets library)")
    seq = 1000
    rows: dict[int, list[tuple]] = {count: [] for count in counts}
    try:
        for attempt in range(repeat):
            for count in counts:
                latencies, floor = await measure_daphne(server, env, count, seq)
                seq += pace(count)[0]
                bare_latencies = await measure_bare(bare, env, count, seq)
                seq += pace(count)[0]
                p50, p99, b50, b99 = (ms(latencies, 0.5), ms(latencies, 0.99), ms(bare_latencies, 0.5),
                                      ms(bare_latencies, 0.99))
                rows[count].append((p50, p99, b50, b99))
                print(f"[{attempt + 1}] sockets={count:5d}  daphne p50 {p50:7.2f} ms  p99 {p99:7.2f} ms   "
                      f"bare broadcast p50 {b50:6.2f} ms  p99 {b99:6.2f} ms   ratio p50 {p50 / b50:4.1f}x  "
                      f"p99 {p99 / b99:4.1f}x   ping/pong p50 {ms(floor, 0.5):5.2f} ms  "
                      f"({len(latencies)}/{len(bare_latencies)} deliveries)", flush=True)
                if relay_server is not None:
                    relayed, _ = await measure_daphne(relay_server, env, count, seq, relay=True)
                    seq += pace(count)[0]
                    print(f"    lean relay (daphne + Channels + Redis, no job consumer): p50 {ms(relayed, 0.5):7.2f} ms"
                          f"  p99 {ms(relayed, 0.99):7.2f} ms   ratio vs bare p50 {ms(relayed, 0.5) / b50:4.1f}x",
                          flush=True)
    finally:
        server.stop()
        bare.stop()
        if relay_server is not None:
            relay_server.stop()
        env["database"].unlink(missing_ok=True)
    print("\nmedians over repeats, ratio vs the bare broadcast (target):")
    for count, measured in rows.items():
        p50, p99, b50, b99 = (statistics.median(column) for column in zip(*measured, strict=True))
        p50_target, p99_target = TARGETS.get(count, (None, None))
        print(f"  sockets={count:5d}  daphne {p50:7.2f} / {p99:7.2f} ms   bare {b50:6.2f} / {b99:6.2f} ms"
              f"{verdict('p50', p50 / b50, p50_target)}{verdict('p99', p99 / b99, p99_target)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", default="1,100,1000")
    parser.add_argument("--repeat", type=int, default=1, help="measure every socket count this many times")
    parser.add_argument("--relay", action="store_true", help="also measure the lean relay on the daphne stack")
    arguments = parser.parse_args()
    asyncio.run(main([int(n) for n in arguments.sockets.split(",")], arguments.repeat, setup_django(),
                     arguments.relay))
