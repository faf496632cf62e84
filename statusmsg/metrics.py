"""The Prometheus metrics every process counts into; served at /metrics by operations.views.

A leaf module (it imports nothing of the apps), so the engine, the publisher and the
consumers can all count here. Multi-process safe when PROMETHEUS_MULTIPROC_DIR is set before
the first import (make run and the systemd units set it): each process writes its own files
and /metrics sums them. Without it each process serves only its own counts.
"""

from prometheus_client import Counter, Gauge, Histogram

TASKS_CREATED = Counter("statusmsg_tasks_created", "Tasks created", ["kind"])
TASKS_FINISHED = Counter("statusmsg_tasks_finished", "Tasks that reached a final state", ["kind", "status"])
TASK_DURATION = Histogram(
    "statusmsg_task_duration_seconds", "From start to final state, per kind", ["kind"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf")),
)
PROGRESS_WRITES = Counter("statusmsg_progress_writes", "Throttled progress writes of running tasks")
# livesum: the gauges of live processes are added up; a dead process's files are dropped.
WEBSOCKET_CONNECTIONS = Gauge("statusmsg_websocket_connections", "Open WebSocket connections",
                              multiprocess_mode="livesum")
PUSH_FAILURES = Counter("statusmsg_push_failures", "Realtime pushes that failed or were skipped")
NOTIFICATIONS_CREATED = Counter("statusmsg_notifications_created", "Notifications created", ["type"])
