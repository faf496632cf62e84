"""Count the SQL statements every process of a benchmark sends, by verb, in one shared file.

install(path) patches Django's CursorWrapper so each statement bumps this process's row of
a memory-mapped file; processes forked afterwards (django-q2's pusher, workers, monitor)
each claim their own row. totals(path) sums the rows. An increment costs well under a
microsecond, against a round trip of ~100 µs, so the counting does not change what it counts.
"""

import fcntl
import mmap
import os
from pathlib import Path

VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "OTHER")
SLOTS = 512
ROW = 1 + len(VERBS)  # pid, then one counter per verb
_SIZE = SLOTS * ROW * 8

_state: dict = {"view": None, "row": None}


def create(path: Path) -> None:
    """Create (or empty) the counter file at path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * _SIZE)


def _claim_row(path: Path) -> int:
    """Claim a free row for this process (under a file lock: processes start together)."""
    with open(path, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            mapped = mmap.mmap(handle.fileno(), _SIZE)
            view = memoryview(mapped).cast("q")
            for slot in range(SLOTS):
                if view[slot * ROW] == 0:
                    view[slot * ROW] = os.getpid()
                    _state["view"], _state["row"] = view, slot * ROW
                    return slot * ROW
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    raise RuntimeError(f"no free row in {path}")


def install(path: Path) -> None:
    """Count every statement this process (and any it forks later) sends through Django."""
    from django.db.backends.utils import CursorWrapper

    if getattr(CursorWrapper, "_bench_counted", False):
        return
    index = {verb: position + 1 for position, verb in enumerate(VERBS)}
    original = CursorWrapper._execute_with_wrappers

    def counted(self, sql, params, many, executor):
        row = _state["row"]
        if row is None:
            row = _claim_row(path)
        verb = sql.lstrip()[:6].upper()
        _state["view"][row + index.get(verb, len(VERBS))] += 1
        return original(self, sql, params, many, executor)

    CursorWrapper._execute_with_wrappers = counted
    CursorWrapper._bench_counted = True
    # A forked child must count in its own row, not in its parent's.
    os.register_at_fork(after_in_child=lambda: _state.update(view=None, row=None))


def totals(path: Path) -> dict[str, int]:
    """Return the statements counted so far in path, by verb, with "total"."""
    view = memoryview(path.read_bytes()).cast("q")
    counts = {verb: sum(view[slot * ROW + position + 1] for slot in range(SLOTS))
              for position, verb in enumerate(VERBS)}
    counts["total"] = sum(counts.values())
    return counts
