"""The job of bench/task_groups.py, run by the clusters as the splitting kind "bench_analysis" (by its urls)."""

import time


def burn_cpu(seconds: float) -> None:
    """Spin until this process has used seconds of CPU (not wall time: contention stretches it)."""
    until = time.process_time() + seconds
    while time.process_time() < until:
        sum(range(200))


def fetch_and_burn(progress_callback, urls: list, cpu_ms: float = 20.0) -> dict:
    """Fetch each url through the guarded fetcher, then burn cpu_ms of CPU on it, as a CPU-heavy analysis would.

    Return the counts and the seconds spent, which the group's default merge adds up over its chunks.
    """
    from articles.fetching import Fetcher, FetchError

    fetched = failed = 0
    cpu_began, wall_began = time.process_time(), time.perf_counter()
    fetch_seconds = 0.0
    with Fetcher() as fetcher:
        for done, url in enumerate(urls, start=1):
            began = time.perf_counter()
            try:
                fetcher.fetch(url)
                fetched += 1
            except FetchError:  # a page that fails counts as failed; the bench goes on
                failed += 1
            fetch_seconds += time.perf_counter() - began
            burn_cpu(cpu_ms / 1000)
            progress_callback(done, current=url)
    return {
        "fetched": fetched,
        "failed": failed,
        "cpu_seconds": time.process_time() - cpu_began,
        "wall_seconds": time.perf_counter() - wall_began,
        "fetch_seconds": fetch_seconds,
    }
