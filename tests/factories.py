"""Plain helpers the tests of several apps share: article payloads and a recording progress callback."""


def article(n: int, **fields) -> dict:
    """Return a bulk-save article payload numbered n."""
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
