"""What does reporting progress cost a job? One 200,000-item job, with and without the callback.

Runs on PostgreSQL (BENCH_DATABASE_URL, default a statusmsg_bench database on the local
server) with Redis for the pushes. Prints both times, their ratio, and the row writes.
Usage: .venv/bin/python bench/progress_overhead.py [--items 200000] [--repeat 3]
"""

import argparse
import hashlib
import time

from _setup import setup

from statusmsg.conf import app_settings


def trivial_work(item: int, rounds: int) -> str:
    # About a microsecond of real work per round: hash a short record.
    digest = f"article-{item}"
    for _ in range(rounds):
        digest = hashlib.sha256(digest.encode()).hexdigest()
    return digest


def job(items: int, rounds: int, progress_callback=None) -> int:
    for item in range(1, items + 1):
        trivial_work(item, rounds)
        if progress_callback is not None:
            progress_callback(item, current=item)
    return items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 10], help="hash rounds per item")
    args = parser.parse_args()
    setup()

    from jobs import lifecycle
    from jobs.models import TaskInfo
    from jobs.reporting import ProgressReporter

    print(f"items={args.items} interval={app_settings.PROGRESS_INTERVAL}s best of {args.repeat}")
    for rounds in args.rounds:
        bare, reported, writes = [], [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            job(args.items, rounds)
            bare.append(time.perf_counter() - started)

            task_id = lifecycle.create_task("bench", total_items=args.items)
            lifecycle.start_task(task_id)
            seq_before = TaskInfo.objects.get(pk=task_id).seq
            reporter = ProgressReporter(task_id, args.items)
            started = time.perf_counter()
            job(args.items, rounds, reporter.update)  # what the worker hands a job
            reporter.flush()
            reported.append(time.perf_counter() - started)
            writes.append(reporter.writes)
            task = TaskInfo.objects.get(pk=task_id)
            assert task.processed_items == args.items and task.seq - seq_before == reporter.writes
            task.delete()
        best_bare, best_reported = min(bare), min(reported)
        per_call = (best_reported - best_bare) / args.items * 1e6
        print(f"\nwork: {rounds} hash round(s) per item")
        print(f"  without callback: {best_bare:.3f} s  ({best_bare / args.items * 1e6:.2f} us/item)")
        print(f"  with callback:    {best_reported:.3f} s  ({best_reported / args.items * 1e6:.2f} us/item)")
        print(f"  ratio:            {best_reported / best_bare:.3f}  (target <= 1.05)  overhead {per_call:.2f} us/call")
        print(f"  row writes:       {writes}  (vs {args.items} calls each)")


if __name__ == "__main__":
    main()
