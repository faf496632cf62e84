"""Helpers of the fault-injection tests: final rows, notifications, process trees and timings."""

import json
import time

import psutil

from jobs.models import Status, TaskInfo
from notifications.models import Notification
from tests.processes import BASE_DIR, wait_for

FINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
TIMINGS = BASE_DIR / "var" / "test-logs" / "fault-timings.jsonl"


def wait_for_final_row(task_id, timeout: float = 15) -> TaskInfo:
    """Poll the row until it is final; return it."""
    wait_for(lambda: TaskInfo.objects.filter(pk=task_id, status__in=FINAL).exists(), timeout=timeout,
             interval=0.01, message=f"task {task_id} to reach a final state")
    return TaskInfo.objects.get(pk=task_id)


def outcome_notices(task_id) -> list[str]:
    """Return the types of the notifications that tell the task's outcome."""
    return list(Notification.objects.filter(link=f"/tasks/{task_id}/").values_list("type", flat=True))


def process_tree(pid: int) -> list[psutil.Process]:
    """Return the process pid and all its descendants, as they are now."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def still_alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Return the processes of the list that still run (zombies waiting to be reaped do not)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def record_timing(fault: str, seconds: float, **details) -> None:
    """Print how long a fault took to reach its final row, and keep it in var/test-logs/fault-timings.jsonl."""
    print(f"\n[fault timing] {fault}: {seconds:.2f} s {details or ''}")
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a") as log:
        log.write(json.dumps({"fault": fault, "seconds": round(seconds, 3), "at": time.time(), **details}) + "\n")
