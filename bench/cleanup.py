"""Cleanup of many finished rows: time, and peak Python memory that must not grow with the rows.

Loads N finished tasks straight into PostgreSQL (INSERT … SELECT generate_series), then runs
cleanup_old_tasks and reports its time and peak traced memory, for each size given.
Usage: .venv/bin/python bench/cleanup.py [--rows 100000 1000000]
"""

import argparse
import time
import tracemalloc

from _setup import setup

from statusmsg.conf import app_settings


def load_finished_rows(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO jobs_taskinfo (id, name, kind, status, created_at, completed_at, progress,
                total_items, processed_items, current_item, result, error, metadata, params, seq,
                queue_task_id)
            SELECT gen_random_uuid(), 'bench ' || n, 'bulk_save',
                   (ARRAY['completed', 'failed', 'cancelled'])[1 + n %% 3],
                   now() - interval '3 days', now() - interval '2 days', 100, 10, 10, '',
                   '{"saved": 10}'::jsonb, '', '{}'::jsonb, '{}'::jsonb, 3, ''
            FROM generate_series(1, %s) AS n
            """,
            [count],
        )
        cursor.execute("ANALYZE jobs_taskinfo")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    setup()

    from jobs.cleanup import cleanup_old_tasks
    from jobs.models import TaskInfo

    TaskInfo.objects.all().delete()
    print(f"batch size {app_settings.CLEANUP_BATCH_SIZE}")
    for rows in args.rows:
        started = time.perf_counter()
        load_finished_rows(rows)
        loaded = time.perf_counter() - started
        tracemalloc.start()
        started = time.perf_counter()
        deleted = cleanup_old_tasks(max_age_hours=24)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert deleted == rows and not TaskInfo.objects.exists()
        print(f"rows={rows:>9,}  load {loaded:6.1f} s  cleanup {took:6.1f} s  "
              f"({rows / took:,.0f} rows/s)  peak traced memory {peak / 1024 / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
