"""daphne's memory across socket churn: open and close 1,000 sockets five times against one daphne.

Each round opens the sockets on /ws/bulk-process/<id> (the real consumer: auth, snapshot,
group join), pushes one job update to all of them, closes them all, waits for daphne to
settle, and reads daphne's RSS (/proc/<pid>/status) and its open file descriptors.
A leak grows every round; an allocator high-water mark grows in the first round and then
stays. Target: RSS after the last round within 15 % of RSS after the first.

Run: .venv/bin/python bench/ws_memory.py [--sockets 1000] [--rounds 5]
(Redis at REDIS_URL, default redis://127.0.0.1:6379/1; a throwaway SQLite file under var/bench/)
"""

import argparse
import asyncio
import itertools
import os

from ws_common import DaphneProcess, job_event, open_sockets, raise_file_limit, setup_django


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def settle(pid: int, seconds: float = 3.0) -> float:
    """Wait for daphne to finish closing; return its RSS once two readings agree (or after seconds)."""
    previous = rss_mib(pid)
    for _ in range(int(seconds / 0.5)):
        await asyncio.sleep(0.5)
        current = rss_mib(pid)
        if abs(current - previous) < 0.1:
            return current
        previous = current
    return previous


async def main(count: int, rounds: int, env: dict) -> None:
    from channels.layers import get_channel_layer

    from realtime.groups import job_group

    raise_file_limit(count + 10)
    server = DaphneProcess()
    layer = get_channel_layer()
    after: list[float] = []
    try:
        # One socket first, so the baseline includes the imports and pools the first socket brings.
        [warm] = await open_sockets([server.port], f"/ws/bulk-process/{env['job_id']}", env["token"], 1, 2)
        await warm.close()
        baseline = await settle(server.pid)
        print(f"daphne pid={server.pid}  sockets per round={count}  RSS after one socket {baseline:6.1f} MiB  "
              f"fds {open_fds(server.pid)}", flush=True)
        for round_number in range(1, rounds + 1):
            sockets = await open_sockets([server.port], f"/ws/bulk-process/{env['job_id']}", env["token"], count, 2)
            seq = 1000 + round_number
            await layer.group_send(job_group(env["job_id"]), job_event(env["job_id"], env["user_id"], seq))
            await asyncio.gather(*(ws.recv() for ws in sockets))
            open_rss = rss_mib(server.pid)
            await asyncio.gather(*(ws.close() for ws in sockets))
            after.append(await settle(server.pid))
            print(f"round {round_number}: RSS with {count} open {open_rss:6.1f} MiB   after close {after[-1]:6.1f} MiB"
                  f"   (+{after[-1] - (after[-2] if len(after) > 1 else baseline):5.1f} MiB over the previous)"
                  f"   fds {open_fds(server.pid)}", flush=True)
    finally:
        server.stop()
        env["database"].unlink(missing_ok=True)
    growth = after[-1] / after[0] - 1
    later = [b - a for a, b in itertools.pairwise(after[1:])]
    print(f"\nlast round vs first: {growth:+.1%} (target within 15 %: {'met' if abs(growth) <= 0.15 else 'missed'})")
    print(f"growth per round after the second: {', '.join(f'{d:+.1f}' for d in later) or 'n/a'} MiB -> "
          + ("grows every round: a leak" if later and min(later) > 0.5 else "flat after the first rounds: "
             "a high-water mark, not a leak"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sockets, arguments.rounds, setup_django()))
