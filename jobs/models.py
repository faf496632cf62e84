"""TaskInfo, the one record of a job, and the statuses it moves through."""

import uuid

from django.conf import settings
from django.db import connections, models
from django.db.models import Count, Expression, Q
from django.db.models.sql import UpdateQuery


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)


def may_see(viewer_id, viewer_is_staff: bool, owner_id) -> bool:
    """The visibility rule of tasks for one row already at hand: staff see all, others their own.

    TaskInfoQuerySet.visible_to is the same rule in SQL; a socket relaying a pushed update
    (no row, no query) asks this.
    """
    return viewer_is_staff or (owner_id is not None and owner_id == viewer_id)


class TaskInfoQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TaskInfoQuerySet":
        """Return the tasks user may see: their own, or all of them for staff (see may_see)."""
        if user.is_staff:
            return self
        return self.filter(owner=user)

    def finished(self) -> "TaskInfoQuerySet":
        return self.filter(status__in=FINAL_STATUSES)

    def update_returning(self, **fields) -> list["TaskInfo"]:
        """Update the matching rows and return them as the UPDATE left them, in one statement.

        What Django's update() does, plus `RETURNING` (PostgreSQL and SQLite 3.35+): a
        progress write learns the cancel request and gets the snapshot to announce without
        a second query. Values pass through the fields' own converters, as a SELECT's would.
        """
        sql, params = self._update_sql(fields)
        return _returned_rows(self.db).run(sql, params)

    def compile_update_returning(self, **fields) -> "CompiledUpdate":
        """Compile update_returning(**fields) once, leaving each Param in the filters and fields open.

        For the hot writes (a job's start, heartbeat and progress, its end): building and
        compiling the ORM's UPDATE (the cancel CASE, the guards) cost more than running it.
        """
        return CompiledUpdate(self.db, *self._update_sql(fields))

    def compile_count(self) -> "CompiledCount":
        """Compile count() once, leaving each Param in the filters open (as compile_update_returning)."""
        sql, params = self.order_by().values("pk").query.get_compiler(self.db).as_sql()
        return CompiledCount(self.db, f"SELECT COUNT(*) FROM ({sql}) AS counted", list(params))

    def _update_sql(self, fields: dict) -> tuple[str, list]:
        query = self.query.chain(UpdateQuery)
        query.add_update_values(fields)
        query.annotations = {}
        sql, params = query.get_compiler(self.db).as_sql()
        return sql + _returned_rows(self.db).returning, list(params)

    def summary(self) -> dict:
        """Return the count of tasks per status (and the total) in one query."""
        counts = self.aggregate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Status.values},
        )
        return counts


class Param(Expression):
    """A value a compiled statement leaves open (CompiledUpdate): its field prepares each call's value."""

    def __init__(self, name: str, field: models.Field):
        super().__init__(output_field=field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


class Compiled:
    """A statement compiled once with its Params left open; params_for fills them in for one call,
    prepared by their fields as the ORM would (get_db_prep_save)."""

    def __init__(self, alias: str, sql: str, params: list):
        self.alias = alias
        self.sql = sql
        self.params = params
        self.slots = [(index, param.name, param.output_field) for index, param in enumerate(params)
                      if isinstance(param, Param)]

    def params_for(self, values: dict) -> list:
        connection = connections[self.alias]
        params = list(self.params)
        for index, name, field in self.slots:
            params[index] = field.get_db_prep_save(values[name], connection)
        return params


class CompiledUpdate(Compiled):
    """One UPDATE … RETURNING of tasks compiled once (TaskInfoQuerySet.compile_update_returning);
    a call returns the rows as update_returning does."""

    def __call__(self, **values) -> list["TaskInfo"]:
        return _returned_rows(self.alias).run(self.sql, self.params_for(values))


class CompiledCount(Compiled):
    """One COUNT of tasks compiled once (TaskInfoQuerySet.compile_count); a call returns the count."""

    def __call__(self, **values) -> int:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self.params_for(values))
            return cursor.fetchone()[0]


class RowShape:
    """How one model's columns come back from a query on one database: their attnames, and the
    converters (UUID, JSON, datetimes on SQLite) looked up once, not per row."""

    def __init__(self, alias: str, model: type[models.Model]):
        self.alias = alias
        self.model = model
        connection = connections[alias]
        self.fields = model._meta.concrete_fields
        self.names = [field.attname for field in self.fields]
        columns = [field.get_col(model._meta.db_table) for field in self.fields]
        self.converters = [
            (index, col, converters)
            for index, col in enumerate(columns)
            if (converters := connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        ]

    def instance(self, values) -> models.Model:
        """Return the model instance of one row's values for these columns, as a SELECT's would be."""
        connection = connections[self.alias]
        values = list(values)
        for index, col, converters in self.converters:
            for converter in converters:
                values[index] = converter(values[index], col, connection)
        return self.model.from_db(self.alias, self.names, values)


class _ReturnedRows:
    """The RETURNING clause of every TaskInfo column on one database, and the rows it hands back
    (every job's start, progress writes and end read a row back this way)."""

    def __init__(self, alias: str):
        self.alias = alias
        self.shape = RowShape(alias, TaskInfo)
        quote = connections[alias].ops.quote_name
        self.returning = " RETURNING " + ", ".join(quote(field.column) for field in self.shape.fields)

    def run(self, sql: str, params: list) -> list["TaskInfo"]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [self.shape.instance(row) for row in rows]


_returned: dict[str, _ReturnedRows] = {}  # per database alias; two threads building one store the same


def _returned_rows(alias: str) -> _ReturnedRows:
    returned = _returned.get(alias)
    if returned is None:
        returned = _returned[alias] = _ReturnedRows(alias)
    return returned


class TaskInfo(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=50, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    total_items = models.PositiveIntegerField(default=0)
    processed_items = models.PositiveIntegerField(default=0)
    current_item = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # The job's input, kept on the row so the worker needs only the id (never shown by the API).
    params = models.JSONField(default=dict, blank=True)
    # Bumped by every write of the row, so readers can tell a newer snapshot from an older one.
    seq = models.PositiveBigIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    queue_task_id = models.CharField(max_length=64, blank=True, default="")
    # Task groups (jobs.groups): a parent is never queued itself; it counts its chunks here and
    # is told as one task. A chunk points at its parent, knows its place, and how often it ran.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    children_total = models.PositiveIntegerField(default=0)
    chunk_index = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)

    objects = TaskInfoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"], name="task_owner_status_new"),
            models.Index(fields=["owner", "-created_at"], name="task_owner_new"),
            models.Index(fields=["status", "-created_at"], name="task_status_new"),
            models.Index(fields=["status", "completed_at"], name="task_finished_age"),
            models.Index(fields=["status", "heartbeat_at"], name="task_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_group(self) -> bool:
        return self.children_total > 0
