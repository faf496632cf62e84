"""TaskInfo, the one record of a job, and the statuses it moves through."""

import uuid

from django.conf import settings
from django.db import connections, models
from django.db.models import Count, Q
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
        query = self.query.chain(UpdateQuery)
        query.add_update_values(fields)
        query.annotations = {}
        connection = connections[self.db]
        sql, params = query.get_compiler(self.db).as_sql()
        concrete = self.model._meta.concrete_fields
        columns = [field.get_col(self.model._meta.db_table) for field in concrete]
        sql += " RETURNING " + ", ".join(connection.ops.quote_name(field.column) for field in concrete)
        converters = [connection.ops.get_db_converters(col) + col.get_db_converters(connection) for col in columns]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        names = [field.attname for field in concrete]
        tasks = []
        for row in rows:
            values = list(row)
            for index, (col, field_converters) in enumerate(zip(columns, converters, strict=True)):
                for converter in field_converters:
                    values[index] = converter(values[index], col, connection)
            tasks.append(self.model.from_db(self.db, names, values))
        return tasks

    def summary(self) -> dict:
        """Return the count of tasks per status (and the total) in one query."""
        counts = self.aggregate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Status.values},
        )
        return counts


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
