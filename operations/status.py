"""The system's state as an operator asks for it: processes, clusters, the queue and recent throughput."""

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from jobs.models import Status, TaskInfo

from .health import beating_clusters
from .process_stats import live_reports

WINDOWS = {"5m": timedelta(minutes=5), "60m": timedelta(minutes=60)}


def clusters() -> list[dict]:
    """Return the django-q2 clusters that beat lately: name, host, worker pids, last beat."""
    try:
        stats = beating_clusters()
    except Exception:  # noqa: BLE001 - the shared cache may be down: no cluster can be seen
        return []
    return [
        {"name": str(stat.cluster_id), "host": stat.host, "status": stat.status, "workers": list(stat.workers),
         "last_beat": stat.timestamp}
        for stat in stats
    ]


def queue() -> dict:
    """Return pending and running counts and how long the oldest pending task has waited (s).

    A group's parent is left out: no worker runs it, its chunks are the queue's work.
    """
    now = timezone.now()
    counts = TaskInfo.objects.filter(status__in=(Status.PENDING, Status.RUNNING), children_total=0).aggregate(
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        running=Count("pk", filter=Q(status=Status.RUNNING)),
        oldest_pending=Min("created_at", filter=Q(status=Status.PENDING)),
    )
    oldest = counts.pop("oldest_pending")
    return {**counts, "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None}


def throughput() -> dict:
    """Return the tasks finished and failed in the last 5 and 60 minutes (one query)."""
    now = timezone.now()
    figures = TaskInfo.objects.filter(completed_at__gte=now - WINDOWS["60m"]).aggregate(**{
        f"{what}_last_{name}": Count("pk", filter=Q(completed_at__gte=now - window, **condition))
        for name, window in WINDOWS.items()
        for what, condition in (("finished", {}), ("failed", {"status": Status.FAILED}))
    })
    return figures


def running_tasks(limit: int = 20) -> list[dict]:
    """Return the running tasks, longest-running first, as the system page lists them."""
    rows = TaskInfo.objects.filter(status=Status.RUNNING).select_related("owner").order_by("started_at")[:limit]
    return [{"id": str(task.pk), "name": task.name, "kind": task.kind, "progress": task.progress,
             "owner": task.owner.get_username() if task.owner else None, "started_at": task.started_at,
             "heartbeat_at": task.heartbeat_at} for task in rows]


def system_status() -> dict:
    """Return everything /api/system/status answers."""
    return {
        "processes": live_reports(),
        "clusters": clusters(),
        "queue": queue(),
        "throughput": throughput(),
        "running": running_tasks(),
    }
