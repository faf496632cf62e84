import pytest

from jobs import lifecycle

from .sites import site, site_server  # noqa: F401 - the local web site of the workload tests


@pytest.fixture
def make_task(user):
    """Create a task row (no worker runs it) and return its id."""

    def make(owner=user, total_items=10, kind="bulk_save", params=None, **extra):
        return lifecycle.create_task(
            name="test task", total_items=total_items, owner=owner, kind=kind, params=params or {}, **extra
        )

    return make


def article(n: int, **fields) -> dict:
    return {"url": f"https://example.com/articles/{n}", "title": f"Article {n}", "content": "Body", **fields}



class Recorder:
    """A progress callback that keeps every call, batch update and total it is told."""

    def __init__(self):
        self.calls, self.batches, self.total_items = [], [], 0

    def __call__(self, processed, current=None):
        self.calls.append((processed, current))

    def set_total(self, total_items):
        self.total_items = total_items

    def report_batch(self, batch_completed, total_batches, **info):
        self.batches.append((batch_completed, total_batches, info))
