"""The hot writes of every job (start, heartbeat and progress, end), each stated once with the ORM.

They are compiled once per database and shape (which guards and fields, not their values):
building and compiling their ORM UPDATE cost more than the database's running it. jobs.lifecycle
runs them; a call sends only its values. Two threads compiling one store the same.
"""

from django.db.models import Case, F, Q, Value, When

from .models import CompiledUpdate, Param, Status, TaskInfo

CANCELLED_ON_REQUEST = "Cancelled on request"


def start_update():
    now = param("now", "started_at")
    return TaskInfo.objects.filter(pk=param("task_id", "id"), status=Status.PENDING), {
        "status": Status.RUNNING, "started_at": now, "heartbeat_at": now, "seq": F("seq") + 1}


_compiled: dict[tuple, CompiledUpdate] = {}  # by (database, *shape)


def compiled_update(shape: tuple, build) -> CompiledUpdate:
    """Return the UPDATE … RETURNING that build() states (rows, fields), compiled once per database and shape."""
    key = (TaskInfo.objects.db, *shape)
    statement = _compiled.get(key)
    if statement is None:
        rows, fields = build()
        statement = _compiled[key] = rows.compile_update_returning(**fields)
    return statement


def param(name: str, field: str | None = None) -> Param:
    """A value left open in a compiled statement, prepared as TaskInfo's field (of the same name by default)."""
    return Param(name, TaskInfo._meta.get_field(field or name))


def touch_update(any_attempt: bool, fields: dict):
    rows = open_run(any_attempt).filter(status=Status.RUNNING)
    return rows, {"heartbeat_at": param("heartbeat_at"), "seq": F("seq") + 1,
                  **{name: param(name) for name in fields}}


def this_run(task_id, attempt: int | None):
    """The task's row while it is still on attempt (any attempt when None).

    A chunk's worker that stalled past STALE_AFTER (paused, swapping) may wake after the reaper
    queued its chunk again: its writes then match no row, so it neither overwrites nor ends the
    new run; it stops, as for a row that ended elsewhere.
    """
    rows = TaskInfo.objects.filter(pk=task_id)
    return rows if attempt is None else rows.filter(attempt=attempt)


def open_run(any_attempt: bool):
    """this_run for a compiled statement: the task's id (and attempt, unless any) left open."""
    return this_run(param("task_id", "id"), None if any_attempt else param("attempt"))


def end_update(status: Status, keep_processed: bool, from_statuses: tuple, any_attempt: bool):
    fields = {
        "status": status,
        "completed_at": param("completed_at"),
        "result": param("result"),
        "error": param("error"),
        "seq": F("seq") + 1,
    }
    if not keep_processed:
        fields["processed_items"] = param("processed_items")
    if status == Status.COMPLETED:
        fields.update(completed_unless_cancel_accepted(param("error")))
    return open_run(any_attempt).filter(status__in=from_statuses), fields


def completed_unless_cancel_accepted(error: str | Param) -> dict:
    """Return the UPDATE fields that end a returning job completed, or cancelled if a cancel was accepted.

    Evaluated by the database on the row it locks (PostgreSQL re-reads a row that a
    concurrent transaction changed before applying SET), so no cancel can commit in between.
    The job's result is kept either way: it is what the job had done. error is the job's own, a
    Param in end_task's compiled statement.
    """
    accepted = Q(cancel_requested_at__isnull=False)
    return {
        "status": Case(When(accepted, then=Value(Status.CANCELLED)), default=Value(Status.COMPLETED)),
        "error": Case(When(accepted, then=Value(CANCELLED_ON_REQUEST)),
                      default=error if isinstance(error, Param) else Value(error),
                      output_field=TaskInfo._meta.get_field("error")),
        "progress": Case(When(accepted, then=F("progress")), default=Value(100.0)),
    }
