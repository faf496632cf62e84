"""Job functions for tests, registered as extra kinds by the `test_kinds` fixture."""

import os
import time


def counting_job(progress_callback, items: int = 10, delay: float = 0.0, fail_at: int | None = None):
    """Count to items, sleeping delay per item; raise at fail_at; keep the partial count when interrupted."""
    reported = 0
    try:
        for item in range(1, items + 1):
            if fail_at == item:
                raise ValueError(f"item {item} is broken")
            time.sleep(delay)
            reported = item  # the callback records the item as processed before it may raise
            progress_callback(item, current=f"item {item}")
    except BaseException as interrupted:  # a cancel, a stop or a timeout: keep what was counted
        interrupted.partial_result = {"counted": reported}
        raise
    return {"counted": reported}


def silent_slow_job(progress_callback, seconds: float = 1.0):
    """Report nothing for a while (one slow item), then finish."""
    time.sleep(seconds)
    return {"slept": seconds}


def telltale_job(progress_callback, items: int = 10, delay: float = 0.0):
    """Count like counting_job, reporting as its current item the worker's pid and database backend pid."""
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None
    tell = f"pid={os.getpid()} backend={backend}"
    return counting_job(lambda processed, current=None: progress_callback(processed, current=tell), items, delay)


def cancellable_job(progress_callback, items: int = 10, delay: float = 0.0):
    """Count to items, keeping the partial count on JobCancelled only, as the article jobs do."""
    from jobs.exceptions import JobCancelled

    counted = 0
    try:
        for item in range(1, items + 1):
            time.sleep(delay)
            counted = item
            progress_callback(item, current=f"item {item}")
    except JobCancelled as cancelled:
        cancelled.partial_result = {"counted": counted}
        raise
    return {"counted": counted}


def unstorable_job(progress_callback):
    """Return a result the JSON field cannot hold."""
    return {"when": {1, 2}}


def broken_describe(task):
    """A kind's outcome wording that fails."""
    raise RuntimeError("wording broke")
