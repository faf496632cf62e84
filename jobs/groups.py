"""Task groups: one big task run as chunks on any worker of any cluster, told as one task.

A group is a parent TaskInfo (children_total > 0), which is never queued itself, and its
chunks: child rows of up to CHUNK_SIZE items each, queued one by one, so every free worker
takes one. This module is the group's arithmetic; jobs.lifecycle moves the rows.

- Progress: a chunk's throttled progress write adds its new items to the parent with F()
  expressions (`add_progress`), so twenty chunks writing at once lose no count and the
  parent costs no write per item. The parent is announced at most once per PROGRESS_INTERVAL
  whichever process writes: the UPDATE itself claims the announcement (`_claims_announcement`),
  so subscribers hear the group at the usual throttle, never once per chunk.
- Exactness: whenever a chunk ends or runs again, the parent's count is recomputed from its
  chunks under the parent's row lock (`recount`), so a delta lost with a dying worker does not
  stay lost.
- Ending: the transaction that ends the last chunk ends the parent, with one result merged
  from the chunks' (`merge`), and so one notification.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, F, FloatField, Q, Sum, Value, When
from django.db.models.functions import Cast, Greatest, Least
from django.utils import timezone
from django.utils.module_loading import import_string

from statusmsg.conf import app_settings

from .models import Status, TaskInfo
from .registry import TaskKind

logger = logging.getLogger(__name__)

UNFINISHED = (Status.PENDING, Status.RUNNING)
CHILD_STATUSES = tuple(Status.values)


@dataclass(frozen=True)
class Chunk:
    """One chunk's ending, as a group's merge reads it."""

    items: list
    status: str
    result: dict | None
    error: str
    processed: int = 0  # the items it reported done


def chunks_of(items: list, size: int) -> list[list]:
    """Split items into consecutive chunks of at most size."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def splits(kind: TaskKind, params: dict) -> list[list] | None:
    """Return the chunks a task of kind with params runs as, or None when it runs whole."""
    if kind.chunk_param is None:
        return None
    items = params.get(kind.chunk_param)
    size = max(1, int(app_settings.CHUNK_SIZE))
    if not isinstance(items, list) or len(items) <= size:
        return None
    return chunks_of(items, size)


def child_rows(parent: TaskInfo, chunk_param: str, chunks: list[list]) -> list[TaskInfo]:
    """Return the (unsaved) chunk rows of parent: its params with one chunk of the items each."""
    return [
        TaskInfo(
            name=f"{parent.name}, chunk {index} of {len(chunks)}",
            kind=parent.kind,
            owner_id=parent.owner_id,
            parent=parent,
            chunk_index=index,
            total_items=len(items),
            params={**parent.params, chunk_param: items},
        )
        for index, items in enumerate(chunks, start=1)
    ]


def _progress_of(processed) -> Least:
    """The SQL for a parent's percentage from its processed count (an expression)."""
    return Least(
        Value(100.0),
        Cast(processed, FloatField()) * Value(100.0) / Cast(Greatest(F("total_items"), Value(1)), FloatField()),
    )


def _claims_announcement(now) -> Case:
    """Set heartbeat_at to now when the parent was last announced PROGRESS_INTERVAL ago or more.

    On a parent, heartbeat_at is when the group was last announced (no worker beats for it):
    the write that moves it to its own `now` is the one that announces, in whichever process.
    """
    due = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lte=now - timedelta(seconds=app_settings.PROGRESS_INTERVAL))
    return Case(When(due, then=Value(now)), default=F("heartbeat_at"))


def mark_started(parent_id) -> TaskInfo | None:
    """Move the parent to running when one of its chunks starts; return it if it is due an announcement."""
    now = timezone.now()
    rows = TaskInfo.objects.filter(pk=parent_id, status__in=UNFINISHED).update_returning(
        status=Value(Status.RUNNING),
        started_at=Case(When(started_at__isnull=True, then=Value(now)), default=F("started_at")),
        heartbeat_at=_claims_announcement(now),
        seq=F("seq") + 1,
    )
    if rows and (rows[0].started_at == now or rows[0].heartbeat_at == now):
        return rows[0]
    return None


def add_progress(parent_id, new_items: int, current_item: str) -> TaskInfo | None:
    """Add a chunk's newly processed items to its parent; return the parent if it is due an announcement."""
    now = timezone.now()
    processed = F("processed_items") + new_items
    rows = TaskInfo.objects.filter(pk=parent_id, status=Status.RUNNING).update_returning(
        processed_items=processed,
        progress=_progress_of(processed),
        current_item=current_item,
        heartbeat_at=_claims_announcement(now),
        seq=F("seq") + 1,
    )
    if rows and rows[0].heartbeat_at == now:
        return rows[0]
    return None


def lock(parent_id) -> TaskInfo | None:
    """Lock the parent's row until the transaction ends: a chunk's ending and its parent's count
    are then decided one chunk at a time (each recount sees the chunks that ended before it)."""
    return TaskInfo.objects.select_for_update().filter(pk=parent_id).first()


def tally(parent_id) -> dict:
    """Return the parent's chunk counts by status, with `total`, and their processed items, in one query.

    A chunk that failed counts all its items as processed: they are accounted for, as failed.
    """
    chunks = TaskInfo.objects.filter(parent_id=parent_id)
    return chunks.aggregate(
        total=Count("pk"),
        **{status: Count("pk", filter=Q(status=status)) for status in CHILD_STATUSES},
        processed=Sum(Case(When(status=Status.FAILED, then=F("total_items")), default=F("processed_items"))),
    )


def counts_of(parent_ids) -> dict:
    """Return {parent id: {total, pending, running, completed, failed, cancelled}} in one query."""
    counts = {parent_id: dict.fromkeys(("total", *CHILD_STATUSES), 0) for parent_id in parent_ids}
    rows = TaskInfo.objects.filter(parent_id__in=list(counts)).order_by().values_list("parent_id", "status") \
        .annotate(count=Count("pk"))
    for parent_id, status, count in rows:
        counts[parent_id][status] = count
        counts[parent_id]["total"] += count
    return counts


def is_done(tally_: dict) -> bool:
    return tally_["pending"] == 0 and tally_["running"] == 0


def recount(parent_id, tally_: dict) -> TaskInfo | None:
    """Write the parent's processed count from its chunks (tally_) while it runs; return it as written."""
    rows = TaskInfo.objects.filter(pk=parent_id, status__in=UNFINISHED).update_returning(
        processed_items=tally_["processed"] or 0,
        progress=_progress_of(Value(tally_["processed"] or 0)),
        heartbeat_at=timezone.now(),
        seq=F("seq") + 1,
    )
    return rows[0] if rows else None


def endings(parent: TaskInfo, chunk_param: str) -> list[Chunk]:
    """Return how each chunk of parent ended, in chunk order."""
    rows = TaskInfo.objects.filter(parent=parent).order_by("chunk_index").values_list(
        "params", "status", "result", "error", "processed_items")
    return [Chunk(items=list((params or {}).get(chunk_param) or []), status=status,
                  result=result if isinstance(result, dict) else None, error=error, processed=processed)
            for params, status, result, error, processed in rows]


def merge(kind: TaskKind, chunks: list[Chunk]) -> dict:
    """Return the group's result: the kind's merge (TaskKind.merge_path), or merge_results.

    A kind's merge that fails must not keep its group from ending (the failure would roll back
    the last chunk's ending with it): the default merge stands in, and the failure is logged.
    """
    if kind.merge_path:
        try:
            return import_string(kind.merge_path)(chunks)
        except Exception:
            logger.exception("merging the chunks of a %s group failed; merged by the default", kind.name)
    return merge_results(chunks)


def merge_results(chunks: list[Chunk]) -> dict:
    """The default merge: numbers added, lists joined, other values from the first chunk that has them.

    A failed chunk's items that it did not reach (past the count it reported, in order; all of them
    when it left no result, as a lost worker does) count as failed, each with the chunk's error,
    under "failed" and "errors".
    """
    merged: dict = {}
    for chunk in chunks:
        _add(merged, chunk.result or {})
        if chunk.status == Status.FAILED:
            unreached = chunk.items if chunk.result is None else chunk.items[chunk.processed:]
            _add(merged, {"failed": len(unreached),
                          "errors": [{"item": item, "error": chunk.error} for item in unreached]})
    return merged


def _add(merged: dict, result: dict) -> None:
    """Add one result into merged, as merge_results does."""
    for key, value in result.items():
        if isinstance(value, bool) or not isinstance(value, int | float | list):
            merged.setdefault(key, value)
        elif isinstance(value, list):
            merged[key] = [*merged.get(key, []), *value]
        else:
            merged[key] = merged.get(key, 0) + value


def ending_of(parent: TaskInfo, result: dict) -> tuple[Status, str]:
    """Return the status and error a group ends with: failed when every item failed, else completed
    (lifecycle turns completed into cancelled when a cancel was accepted)."""
    failed = result.get("failed") if isinstance(result.get("failed"), int) else 0
    if parent.total_items and failed >= parent.total_items:
        return Status.FAILED, f"All {parent.total_items} items failed."
    return Status.COMPLETED, ""
