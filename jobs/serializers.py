"""The JSON shape of a task (REST answers and realtime snapshots) and of the task endpoints.

The timing fields (`elapsed_seconds`, `items_per_second`, `eta_seconds`, `queue_position`) are
computed from the row alone, because a snapshot is built on every progress write: only a
pending task's `queue_position` costs a query (one COUNT of the pending tasks older than it).

`items_per_second` is the job's average since it started, `processed_items / elapsed`: the row
keeps no history of its progress writes (a recent window kept in metadata by jobs.reporting would be the next step),
and a per-process memory of the previous snapshot would make the REST answer and the socket
disagree. A job's items cost about the same throughout (the analysis queue's per-item
deadline bounds the slow ones), so the average is a steady estimate; it is null until the
job has processed an item after at least MIN_RATE_SECONDS.
"""

import threading
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from statusmsg.api_input import StrictIntegerField

from . import groups
from .models import CompiledCount, Param, Status, TaskInfo

# Below this many seconds of running, a rate is mostly start-up noise: none is given.
MIN_RATE_SECONDS = 1.0


def elapsed_seconds(task: TaskInfo, now: datetime | None = None) -> float | None:
    """Return how long the task has run (until it finished), or None if it never started."""
    if task.started_at is None:
        return None
    end = task.completed_at or now or timezone.now()
    return max(0.0, round((end - task.started_at).total_seconds(), 3))


def items_per_second(task: TaskInfo, elapsed: float | None) -> float | None:
    """Return the task's items per second since it started, or None before there is a rate."""
    if elapsed is None or elapsed < MIN_RATE_SECONDS or task.processed_items <= 0:
        return None
    return round(task.processed_items / elapsed, 3)


def eta_seconds(task: TaskInfo, rate: float | None) -> float | None:
    """Return the seconds a running task still needs at its rate, or None when unknown."""
    if task.status != Status.RUNNING or not rate or task.total_items <= 0:
        return None
    remaining = max(0, task.total_items - task.processed_items)
    return round(remaining / rate, 1)


def queue_position(task: TaskInfo) -> int | None:
    """Return the pending task's place in the queue (1 = next to run), None for other statuses.

    One COUNT of the pending tasks created before it (the (status, -created_at) index
    serves it); the queue hands out pending work oldest first.
    """
    if task.status != Status.PENDING:
        return None
    alias = TaskInfo.objects.db
    count = _queued_before.get(alias)
    if count is None:
        count = _queued_before[alias] = _queued().filter(
            created_at__lt=Param("created_at", TaskInfo._meta.get_field("created_at"))).compile_count()
    return count(created_at=task.created_at) + 1


def _queued():
    """The pending tasks in the queue: a group's parent is not (its chunks are)."""
    return TaskInfo.objects.filter(status=Status.PENDING, children_total=0)


# Every pending snapshot (each task's creation is announced) counts the queue ahead of it: its SQL is
# compiled once per database from _queued, which still states the rule, and each call sends only the
# task's creation time. Two threads compiling at once store the same.
_queued_before: dict[str, CompiledCount] = {}


def queue_positions(tasks: Iterable[TaskInfo]) -> dict:
    """Return {task id: queue position} for the pending ones of tasks, in one query.

    A list (REST page, task page) of many pending tasks would otherwise cost a COUNT each;
    this reads the creation times of the pending tasks ahead of the newest one listed once.
    """
    pending = [task for task in tasks if task.status == Status.PENDING]
    if len(pending) < 2:
        return {}  # one COUNT (in queue_position) is as cheap as this query
    newest = max(task.created_at for task in pending)
    ahead = list(_queued().filter(created_at__lt=newest)
                 .order_by("created_at").values_list("created_at", flat=True))
    return {task.pk: bisect_left(ahead, task.created_at) + 1 for task in pending}


class TaskListSerializer(serializers.ListSerializer):
    """Many tasks at once: their queue positions come from one query (see queue_positions)."""

    def to_representation(self, data) -> list:
        tasks = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        self.child._queue_positions = queue_positions(tasks)
        self.child._children_counts = groups.counts_of([task.pk for task in tasks if task.is_group])
        try:
            return super().to_representation(tasks)
        finally:
            self.child._queue_positions = {}
            self.child._children_counts = {}


_SECONDS = {"type": "number", "nullable": True, "minimum": 0}


class TaskInfoSerializer(serializers.ModelSerializer):
    # Scheduled jobs (auto-ingest) have no owner: null, and the schema says so. A method, not
    # source="owner.get_username": DRF inspects a callable source's signature on every call.
    owner = serializers.SerializerMethodField()
    elapsed_seconds = serializers.SerializerMethodField(help_text="Seconds since the task started (until it "
                                                        "finished); null before it starts.")
    items_per_second = serializers.SerializerMethodField(help_text="Items processed per second since the task "
                                                         "started; null before there is a rate.")
    eta_seconds = serializers.SerializerMethodField(help_text="Seconds a running task still needs at its rate; "
                                                    "null when unknown.")
    queue_position = serializers.SerializerMethodField(help_text="A pending task's place in the queue, "
                                                       "1 = next to run; null for other statuses.")
    parent_id = serializers.UUIDField(read_only=True, allow_null=True,
                                      help_text="The group this task is a chunk of; null for a task of its own.")
    chunk_index = serializers.IntegerField(read_only=True, allow_null=True,
                                           help_text="A chunk's place in its group, from 1; null for other tasks.")
    attempt = serializers.IntegerField(read_only=True, help_text="Which run this is: a group's chunk whose "
                                       "worker was lost runs again as attempt 2; 1 for every other task.")
    children = serializers.SerializerMethodField(help_text="A group's chunks counted by status, with their total; "
                                                 "null for a task that is not a group.")

    class Meta:
        model = TaskInfo
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "owner",
            "created_at",
            "started_at",
            "completed_at",
            "progress",
            "total_items",
            "processed_items",
            "current_item",
            "result",
            "error",
            "metadata",
            "seq",
            "heartbeat_at",
            "cancel_requested_at",
            "elapsed_seconds",
            "items_per_second",
            "eta_seconds",
            "queue_position",
            "parent_id",
            "chunk_index",
            "attempt",
            "children",
        ]
        read_only_fields = fields
        list_serializer_class = TaskListSerializer

    _queue_positions: dict = {}  # set by TaskListSerializer while it serializes a list
    _children_counts: dict = {}  # likewise

    def to_representation(self, task: TaskInfo) -> dict:
        # The three timing fields share one clock reading, so they agree with each other.
        elapsed = elapsed_seconds(task)
        self._timing = (elapsed, items_per_second(task, elapsed))
        return super().to_representation(task)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_owner(self, task: TaskInfo) -> str | None:
        return task.owner.get_username() if task.owner_id is not None else None

    @extend_schema_field(_SECONDS)
    def get_elapsed_seconds(self, task: TaskInfo) -> float | None:
        return self._timing[0]

    @extend_schema_field(_SECONDS)
    def get_items_per_second(self, task: TaskInfo) -> float | None:
        return self._timing[1]

    @extend_schema_field(_SECONDS)
    def get_eta_seconds(self, task: TaskInfo) -> float | None:
        return eta_seconds(task, self._timing[1])

    @extend_schema_field({"type": "integer", "nullable": True, "minimum": 1})
    def get_queue_position(self, task: TaskInfo) -> int | None:
        known = self._queue_positions.get(task.pk)
        return known if known is not None else queue_position(task)

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        name: {"type": "integer", "minimum": 0} for name in ("total", *Status.values)}})
    def get_children(self, task: TaskInfo) -> dict | None:
        if not task.is_group:
            return None
        known = self._children_counts.get(task.pk)
        return known if known is not None else groups.counts_of([task.pk])[task.pk]


_serializers = threading.local()


def task_snapshot(task: TaskInfo) -> dict:
    """Return the task as the REST API shows it: the payload of every realtime message.

    Every state change and progress write is announced, so this runs several times per job.
    A new ModelSerializer builds its fields from the model on every instance (about 1 ms, most
    of a snapshot's cost); one kept per thread builds them once, as a ListSerializer reuses its
    child for every item. Per thread, because to_representation keeps the clock it read on
    the instance while it runs (the publisher's catch-up thread builds messages too).
    """
    serializer = getattr(_serializers, "task", None)
    if serializer is None:
        serializer = _serializers.task = TaskInfoSerializer()
    return dict(serializer.to_representation(task))


class TaskCreatedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()


class CancelResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    status = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


# A century: anything larger is a typo, and would overflow the cutoff date.
MAX_CLEANUP_AGE_HOURS = 24 * 365 * 100


class CleanupRequestSerializer(serializers.Serializer):
    # Strict: `false` or "0" once read as 0 hours and deleted every finished task.
    max_age_hours = StrictIntegerField(min_value=0, max_value=MAX_CLEANUP_AGE_HOURS, default=24)


class CleanupResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    max_age_hours = serializers.IntegerField()
