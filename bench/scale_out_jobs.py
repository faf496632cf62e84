"""The job bench/scale_out.py drains: a fixed slice of CPU, so more processes can truly help."""

import time


def spin_job(progress_callback, milliseconds: float = 50.0) -> dict:
    """Keep one core busy for milliseconds (no sleeping: a sleep would scale without limit)."""
    until = time.perf_counter() + milliseconds / 1000
    spins = 0
    while time.perf_counter() < until:
        spins += 1
    progress_callback(1)
    return {"spins": spins}
