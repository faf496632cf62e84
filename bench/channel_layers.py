"""RedisChannelLayer vs RedisPubSubChannelLayer: group sends/s and latency, and fan-out deliveries/s.

One sender process (this one) and one receiver process, on REDIS_URL (default
redis://127.0.0.1:6379/1). Run: .venv/bin/python bench/channel_layers.py [--sends 2000]
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
LAYERS = {
    "RedisChannelLayer": ("channels_redis.core", "RedisChannelLayer", {"capacity": 1_000_000}),
    "RedisPubSubChannelLayer": ("channels_redis.pubsub", "RedisPubSubChannelLayer", {}),
}


def make_layer(name: str, prefix: str):
    import importlib

    module, cls, extra = LAYERS[name]
    return getattr(importlib.import_module(module), cls)(hosts=[REDIS_URL], prefix=prefix, **extra)


def receiver(name, prefix, group, members, expected, ready, done):
    async def main():
        layer = make_layer(name, prefix)
        channels = [await layer.new_channel() for _ in range(members)]
        for channel in channels:
            await layer.group_add(group, channel)
        counted = 0
        first = None

        async def drain(channel):
            nonlocal counted, first
            while counted < expected:
                await layer.receive(channel)
                first = first or time.perf_counter()
                counted += 1

        ready.set()
        tasks = [asyncio.ensure_future(drain(c)) for c in channels]
        while counted < expected:
            await asyncio.sleep(0.01)
        done.put((counted, time.time()))
        for task in tasks:
            task.cancel()
    asyncio.run(main())


async def send_many(layer, group, sends):
    latencies = []
    payload = {"type": "task.updated", "job_id": "x", "seq": 1, "owner_id": 1, "text": "x" * 600}
    started = time.perf_counter()
    for _ in range(sends):
        t0 = time.perf_counter()
        await layer.group_send(group, payload)
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


def run(name, members, sends):
    prefix = f"bench-cl-{os.getpid()}-{members}"
    group = "bench"
    ready, done = multiprocessing.Event(), multiprocessing.Queue()
    proc = multiprocessing.Process(target=receiver, args=(name, prefix, group, members, sends * members, ready, done))
    proc.start()
    ready.wait(30)
    time.sleep(0.3)
    layer = make_layer(name, prefix)
    t_start = time.time()
    elapsed, latencies = asyncio.run(send_many(layer, group, sends))
    try:
        counted, t_end = done.get(timeout=120)
    except Exception:  # noqa: BLE001 - the receiver died or timed out: print what we have
        counted, t_end = -1, time.time()
    proc.join(5)
    if proc.is_alive():
        proc.kill()
    latencies.sort()
    return {
        "sends_per_s": sends / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "deliveries_per_s": counted / (t_end - t_start) if counted > 0 else 0,
        "delivered": counted,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=2000)
    args = parser.parse_args()
    print(f"redis={REDIS_URL} sends={args.sends}")
    for members in (1, 100):
        sends = args.sends if members == 1 else max(1, args.sends // 4)
        for name in LAYERS:
            r = run(name, members, sends)
            print(f"{name:24s} members={members:3d} sends={sends:5d}  {r['sends_per_s']:8.0f} group sends/s  "
                  f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                  f"{r['deliveries_per_s']:9.0f} deliveries/s ({r['delivered']} delivered)", flush=True)


if __name__ == "__main__":
    main()
