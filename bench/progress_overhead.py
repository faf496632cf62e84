"""What does reporting progress cost a job? The throttled callback per call, then one 200,000-item job.

First, in one run and interleaved, the per-call cost of the callback a job gets
(ProgressReporter.update on a running task, as the worker hands it out) beside a bare Python
call with the same signature, each with the empty loop's cost taken off; target <= 0.1 µs
per throttled call. Then a 200,000-item job with and without the callback: both times,
their ratio (target <= 1.05), and the row writes.
Runs on PostgreSQL (BENCH_DATABASE_URL, default a statusmsg_bench database on the local
server) with Redis for the pushes (REDIS_URL, default redis://127.0.0.1:6379/0).
Usage: .venv/bin/python bench/progress_overhead.py [--calls 1000000] [--items 200000] [--repeat 3]
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


def bare_call(processed: int, current=None) -> None:
    """The floor: a Python function with the callback's signature that does nothing."""


def loop_seconds(function, calls: int) -> float:
    started = time.perf_counter()
    for item in range(1, calls + 1):
        function(item, current=item)
    return time.perf_counter() - started


def empty_loop_seconds(calls: int) -> float:
    started = time.perf_counter()
    for item in range(1, calls + 1):
        item  # noqa: B018 - the loop's own cost, to take off the others
    return time.perf_counter() - started


def per_call_costs(calls: int, repeat: int) -> None:
    """Print the throttled callback's cost per call beside a bare call's, best of repeat, interleaved."""
    from jobs import lifecycle
    from jobs.models import TaskInfo
    from jobs.reporting import ProgressReporter

    empty, bare, throttled, writes = [], [], [], []
    for _ in range(repeat):
        empty.append(empty_loop_seconds(calls))
        bare.append(loop_seconds(bare_call, calls))
        task_id = lifecycle.create_task("bench calls", total_items=calls)
        lifecycle.start_task(task_id)
        reporter = ProgressReporter(task_id, calls)
        throttled.append(loop_seconds(reporter.update, calls))  # what the worker hands a job
        writes.append(reporter.writes)
        TaskInfo.objects.filter(pk=task_id).delete()
    loop = min(empty) / calls * 1e6
    bare_us, throttled_us = min(bare) / calls * 1e6 - loop, min(throttled) / calls * 1e6 - loop
    print(f"per call, {calls:,} calls, best of {repeat} (the empty loop's {loop:.3f} us taken off):")
    print(f"  bare Python call:         {bare_us:.3f} us")
    print(f"  throttled progress call:  {throttled_us:.3f} us  (target <= 0.1 us: "
          f"{'met' if throttled_us <= 0.1 else 'missed'})  {throttled_us / bare_us:.2f}x a bare call, "
          f"+{throttled_us - bare_us:.3f} us; row writes per run {writes}")
    spread = sorted(t / calls * 1e6 - loop for t in throttled)
    print(f"  throttled, all runs: {', '.join(f'{value:.3f}' for value in spread)} us")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 10], help="hash rounds per item")
    args = parser.parse_args()
    setup()

    from jobs import lifecycle
    from jobs.models import TaskInfo
    from jobs.reporting import ProgressReporter

    per_call_costs(args.calls, max(args.repeat, 5))
    print(f"\nitems={args.items} interval={app_settings.PROGRESS_INTERVAL}s best of {args.repeat}")
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
