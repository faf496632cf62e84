"""Use cases that move a task through its states: create, start, finish, cancel.

Every state change is one guarded UPDATE (`WHERE status IN …`), so two processes racing
to change the same row cannot both win, and a final state is never overwritten.

An accepted cancel is honoured: once cancel_requested_at is set, the task never ends
`completed`. finish_task decides completed-or-cancelled inside its UPDATE (a CASE on
cancel_requested_at), not from an earlier read, so a cancel that commits while the job is
returning either lands first (the job ends `cancelled`, keeping its result) or finds the row
already final (and cancel_task says it had finished).
"""

import logging

from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from statusmsg import metrics
from statusmsg.conf import app_settings

from . import groups, outcomes, queueing, statements
from .announce import announce_on_commit
from .exceptions import TaskAlreadyFinished, TaskInGroup, TaskNotFound
from .models import Status, TaskInfo
from .registry import get_task_kind

logger = logging.getLogger(__name__)

UNFINISHED = (Status.PENDING, Status.RUNNING)
CANCELLED_ON_REQUEST = statements.CANCELLED_ON_REQUEST


def create_task(
    name: str,
    total_items: int = 0,
    metadata: dict | None = None,
    owner=None,
    kind: str = "bulk_save",
    params: dict | None = None,
):
    """Create a pending task, queued for a worker as it commits; return its id."""
    job_kind = get_task_kind(kind)
    params = params or {}
    row = dict(name=name, kind=kind, owner=owner, total_items=total_items, metadata=metadata or {}, params=params)
    if queueing.commits_with_rows():
        try:
            return _create(job_kind, row, queue_in_transaction=True)
        except queueing.NotQueued as refused:
            # Rolled back, its queue items with it: queue after commit instead, whose failure
            # path ends a row the queue still refuses failed, with the reason.
            logger.warning("task kind=%s not queued in its transaction, queueing after commit: %s: %s",
                           kind, type(refused.__cause__).__name__, refused.__cause__)
    return _create(job_kind, row, queue_in_transaction=False)


def _create(job_kind, row: dict, queue_in_transaction: bool):
    """Insert the task (a group: its parent and chunks) and queue it; return its id.

    A worker looks its row up by id, so it must never get the queue item before the row has
    committed. With the ORM broker the queue is a table of the same database: the item is
    inserted in this transaction, becomes visible to the workers with the row, and its id goes
    into the row's INSERT. Any other broker (Redis) is not transactional: its items are pushed
    once the rows have committed, and their ids written then.
    """
    chunks = groups.splits(job_kind, row["params"])
    with transaction.atomic():
        task = TaskInfo(**row, children_total=len(chunks) if chunks else 0)
        # A group queues its chunks, never itself.
        if chunks:
            task.save(force_insert=True)
            queued = groups.child_rows(task, job_kind.chunk_param, chunks)
        else:
            queued = [task]
        if queue_in_transaction:
            queueing.enqueue_in_transaction(queued, job_kind)
        if chunks:
            TaskInfo.objects.bulk_create(queued)
        else:
            task.save(force_insert=True)
        if not queue_in_transaction:
            transaction.on_commit(lambda: _enqueue_all([row.pk for row in queued], job_kind))
        announce_on_commit(task.pk, row=task)  # the row as created: no read-back to announce it
        transaction.on_commit(lambda: metrics.TASKS_CREATED.labels(job_kind.name).inc())
    return task.pk


def _enqueue_all(task_ids: list, job_kind) -> None:
    for task_id in task_ids:
        _enqueue(task_id, job_kind.name, job_kind.effective_timeout)


def _enqueue(task_id, kind: str, timeout: int) -> None:
    """Queue a committed task now and write its queue id; a refusal ends it failed, with the reason."""
    try:
        queue_id = queueing.push(task_id, kind, timeout)
    except Exception as exc:
        # The row is committed but no worker will ever see it: end it now, with the
        # reason, rather than leave it pending for ever.
        logger.exception("task id=%s could not be enqueued", task_id)
        finish_task(task_id, Status.FAILED, error=f"Could not enqueue the job: {type(exc).__name__}: {exc}",
                    from_statuses=(Status.PENDING,))
        return
    try:
        TaskInfo.objects.filter(pk=task_id).update(queue_task_id=queue_id or "", seq=F("seq") + 1)
    except DatabaseError:
        # The job is queued and will run; only the reaper's "never enqueued" check misses the id,
        # and a failure here must not turn the request that queued it into a 500.
        logger.exception("task id=%s queued but its queue id not recorded", task_id)


def requeue_task(task_id) -> bool:
    """Put a pending task back on the queue (its worker stopped before starting it); False if not pending."""
    kind = TaskInfo.objects.filter(pk=task_id, status=Status.PENDING).values_list("kind", flat=True).first()
    if kind is None:
        return False
    job_kind = get_task_kind(kind)
    _enqueue(task_id, job_kind.name, job_kind.effective_timeout)
    logger.info("task id=%s requeued", task_id)
    return True


def run_chunk_again(task_id, reason: str, attempt: int | None = None) -> bool:
    """Queue a running chunk whose worker was lost or stopped again, from its start; False if it may not.

    It may while it is a chunk on its attempt (any, when None) that has run fewer than
    CHUNK_ATTEMPTS times and whose group was not cancelled; otherwise its caller ends it failed,
    and its items count as failed. Its parent's count drops the items it had done (settle_group
    recounts), and it runs on whichever worker is free next, as attempt + 1.
    """
    runs_left = Q(parent__isnull=False, attempt__lt=app_settings.CHUNK_ATTEMPTS, cancel_requested_at__isnull=True)
    with transaction.atomic():
        rows = statements.this_run(task_id, attempt).filter(runs_left, status=Status.RUNNING).update_returning(
            status=Status.PENDING, attempt=F("attempt") + 1, started_at=None, heartbeat_at=None, processed_items=0,
            progress=0.0, current_item="", queue_task_id="", error=f"Running again after: {reason}",
            seq=F("seq") + 1,
        )
        if not rows:
            return False
        chunk = rows[0]
        announce_on_commit(task_id, row=chunk)
        settle_group(chunk.parent_id)
        job_kind = get_task_kind(chunk.kind)
        transaction.on_commit(lambda: _enqueue(task_id, job_kind.name, job_kind.effective_timeout))
    logger.warning("chunk id=%s of group id=%s queued again, attempt %s", task_id, chunk.parent_id, chunk.attempt)
    return True


def start_task(task_id, owner=None) -> bool:
    """Move a pending task to running; False if it is no longer pending (e.g. cancelled).

    owner, when the caller holds it (the worker does), rides on the announced row, which the
    UPDATE … RETURNING hands back: starting costs one statement.
    """
    rows = statements.compiled_update(("start",), statements.start_update)(task_id=task_id, now=timezone.now())
    if rows:
        _attach_owner(rows[0], owner)
        announce_on_commit(task_id, row=rows[0])
        if rows[0].parent_id is not None:
            _announce_parent(groups.mark_started(rows[0].parent_id), owner)
    return bool(rows)


def _announce_parent(parent: TaskInfo | None, owner=None) -> None:
    """Announce a group's parent that a chunk's write left due an announcement (None: not due)."""
    if parent is not None:
        _attach_owner(parent, owner)
        announce_on_commit(parent.pk, row=parent)


def add_group_progress(chunk: TaskInfo, new_items: int, owner=None) -> None:
    """Add a chunk's newly written items to its group's parent, announcing it at the usual throttle."""
    if chunk.parent_id is not None and new_items:
        _announce_parent(groups.add_progress(chunk.parent_id, new_items, chunk.current_item), owner)


def _attach_owner(row: TaskInfo, owner) -> None:
    """Put the caller's copy of the owner on a row read back by RETURNING, sparing a query for it."""
    if owner is not None and owner.pk == row.owner_id:
        row.owner = owner


def touch_running_task(task_id, owner=None, attempt: int | None = None, **fields) -> TaskInfo | None:
    """Write fields and a fresh heartbeat to a running task; return the row as written, or None.

    owner, when the caller holds it, rides on the returned row (see start_task). attempt, when
    given, must still be the row's (see statements.this_run).

    The one place a running job hears from its row, in one UPDATE … RETURNING: None means
    the row is no longer running (reaped, or ended elsewhere), and a row carrying
    cancel_requested_at means another process asked the job to stop. Either way it should stop.
    """
    now = timezone.now()
    if any(hasattr(value, "resolve_expression") for value in fields.values()):  # not a plain value: no compiled shape
        rows = statements.this_run(task_id, attempt).filter(status=Status.RUNNING).update_returning(
            heartbeat_at=now, seq=F("seq") + 1, **fields)
    else:
        statement = statements.compiled_update(("touch", attempt is None, *sorted(fields)),
                                               lambda: statements.touch_update(attempt is None, fields))
        rows = statement(task_id=task_id, attempt=attempt, heartbeat_at=now, **fields)
    if not rows:
        return None
    if fields:  # a progress write, not a bare heartbeat
        metrics.PROGRESS_WRITES.inc()
    _attach_owner(rows[0], owner)
    return rows[0]


def should_stop(row: TaskInfo | None) -> bool:
    """Return whether a job whose touch_running_task returned row must stop."""
    return row is None or row.cancel_requested_at is not None


def finish_task(task_id, status: Status, **options) -> bool:
    """End a task in a final status; False if it had already ended (nothing is written)."""
    return end_task(task_id, status, **options) is not None


def end_task(
    task_id,
    status: Status,
    *,
    result=None,
    error: str = "",
    processed_items: int | None = None,
    from_statuses=UNFINISHED,
    owner=None,
    attempt: int | None = None,
) -> TaskInfo | None:
    """End a task in a final status; return the row as ended (its status may be cancelled, see
    below), or None if it had already ended, or is no longer on attempt (nothing is written)."""
    assert status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED), status
    from_statuses = tuple(from_statuses)
    shape = (status, processed_items is None, from_statuses, attempt is None)
    statement = statements.compiled_update(("end", *shape), lambda: statements.end_update(*shape))
    with transaction.atomic():
        rows = statement(task_id=task_id, attempt=attempt, completed_at=timezone.now(), result=result, error=error,
                         processed_items=processed_items)
        if not rows:
            return None
        task = rows[0]
        _attach_owner(task, owner)
        # Same transaction as the UPDATE that won: the owner hears exactly once (of a group, once
        # for all: a chunk tells nobody, its parent ends in the transaction of its last chunk).
        if task.parent_id is None:
            outcomes.on_task_finished(task)
        announce_on_commit(task_id, row=task)
        transaction.on_commit(lambda: _count_finished(task))
        if task.parent_id is not None:
            settle_group(task.parent_id, owner)
    return task


def settle_group(parent_id, owner=None) -> None:
    """After a chunk ended or was queued again: recount the group, and end it when no chunk is left.

    Runs in a transaction that holds the parent's row lock from here on, so chunks ending at once
    settle one after another and each tally sees the ones before it.
    """
    with transaction.atomic():
        parent = groups.lock(parent_id)
        if parent is None or parent.is_finished:
            return
        tally = groups.tally(parent_id)
        if not groups.is_done(tally):
            _announce_parent(groups.recount(parent_id, tally), owner)
            return
        kind = get_task_kind(parent.kind)
        result = groups.merge(kind, groups.endings(parent, kind.chunk_param))
        status, error = groups.ending_of(parent, result)
        end_task(parent_id, status, result=result, error=error, processed_items=tally["processed"] or 0,
                 owner=owner)


def _count_finished(task: TaskInfo) -> None:
    metrics.TASKS_FINISHED.labels(task.kind, task.status).inc()
    if task.started_at and task.completed_at:
        metrics.TASK_DURATION.labels(task.kind).observe((task.completed_at - task.started_at).total_seconds())


def cancel_task(task_id, by=None) -> TaskInfo:
    """Cancel a task: a pending one at once, a running one at its next progress report or heartbeat.

    A running job that reports no progress is cancelled when it returns, keeping its result.

    Raise TaskAlreadyFinished for a task that has ended. Return the task as it now is.
    """
    try:
        task = TaskInfo.objects.get(pk=task_id)
    except TaskInfo.DoesNotExist:  # deleted (cleanup) since the caller found it
        raise TaskNotFound() from None
    if task.parent_id is not None:
        raise TaskInGroup(f"This task is chunk {task.chunk_index} of a group: cancel the group, task "
                          f"{task.parent_id}, which stops all its chunks.", group_id=task.parent_id)
    who = by.get_username() if by is not None else "system"
    if task.is_group:
        return _cancel_group(task, who)
    if task.status == Status.PENDING:
        if finish_task(task_id, Status.CANCELLED, error=f"Cancelled by {who} before it started",
                       from_statuses=(Status.PENDING,)):
            logger.info("task id=%s cancelled while pending by=%s", task_id, who)
            return TaskInfo.objects.get(pk=task_id)
        task.refresh_from_db()  # it started (or ended) meanwhile
    if task.status == Status.RUNNING:
        requested = TaskInfo.objects.filter(
            pk=task_id, status=Status.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=timezone.now(), seq=F("seq") + 1)
        if requested:
            logger.info("task id=%s cancel requested by=%s", task_id, who)
            announce_on_commit(task_id, message="Cancellation requested")
        task.refresh_from_db()
        # Our request may already have been honoured (the row is cancelled by now): that
        # is a success, not "already finished".
        if requested or task.status == Status.RUNNING:
            return task
    raise TaskAlreadyFinished(f"The task has already finished with status '{task.status}'.")


def _cancel_group(parent: TaskInfo, who: str) -> TaskInfo:
    """Cancel a group: its pending chunks at once, its running ones at their next progress report.

    The group ends, cancelled, when its last running chunk has stopped (at once if none was running).
    """
    now = timezone.now()
    requested = TaskInfo.objects.filter(
        pk=parent.pk, status__in=UNFINISHED, cancel_requested_at__isnull=True
    ).update(cancel_requested_at=now, seq=F("seq") + 1)
    if not requested:
        parent.refresh_from_db()
        if parent.is_finished:
            raise TaskAlreadyFinished(f"The task has already finished with status '{parent.status}'.")
        return parent  # cancelled already; its chunks are stopping
    chunks = TaskInfo.objects.filter(parent_id=parent.pk)
    for chunk in chunks.filter(status=Status.PENDING).update_returning(
        status=Status.CANCELLED, completed_at=now, error=f"Cancelled with its group by {who} before it started",
        seq=F("seq") + 1,
    ):
        announce_on_commit(chunk.pk, row=chunk)
    chunks.filter(status=Status.RUNNING, cancel_requested_at__isnull=True).update(
        cancel_requested_at=now, seq=F("seq") + 1)
    logger.info("group id=%s cancel requested by=%s", parent.pk, who)
    settle_group(parent.pk)  # ends it now if no chunk was running
    return TaskInfo.objects.get(pk=parent.pk)
