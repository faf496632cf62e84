"""Job functions for tests, registered as extra kinds by the `test_kinds` fixture."""

import time

from jobs.exceptions import JobCancelled


def counting_job(progress_callback, items: int = 10, delay: float = 0.0, fail_at: int | None = None):
    """Count to items, sleeping delay per item; raise at fail_at; keep the partial count on cancel."""
    done = 0
    try:
        for done in range(1, items + 1):
            if fail_at == done:
                raise ValueError(f"item {done} is broken")
            time.sleep(delay)
            progress_callback(done, current=f"item {done}")
    except JobCancelled as cancelled:
        cancelled.partial_result = {"counted": done}  # the call that raised reported item `done` as processed
        raise
    return {"counted": done}


def silent_slow_job(progress_callback, seconds: float = 1.0):
    """Report nothing for a while (one slow item), then finish."""
    time.sleep(seconds)
    return {"slept": seconds}
