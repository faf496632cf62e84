"""The live task pages: the user's job list and one job, rendered with their current state.

The server renders what the database holds now, so a page is right before its socket
connects; static/js/tasks.js then keeps it current from the job_update messages.
"""

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.module_loading import import_string

from statusmsg.conf import app_settings

from . import queries
from .exceptions import TaskNotFound
from .models import Status, TaskInfo
from .registry import get_task_kind
from .serializers import TaskInfoSerializer, task_snapshot
from .timing import timing_words

LIST_LIMIT = 50  # newest jobs shown on /tasks/; the REST list pages through the rest
CHUNK_GRID_LIMIT = 500  # a group's chunks drawn on its page (the REST children list has them all)
BATCH_KEYS = ("batch_completed", "total_batches", "at")


@login_required
def task_list(request):
    """Show the user's jobs (all jobs for staff), newest first, with the summary counts."""
    tasks = list(queries.list_tasks(user=request.user)[:LIST_LIMIT])
    summary = queries.get_task_summary(request.user)
    return render(request, "jobs/task_list.html", {
        "tasks": tasks,
        "snapshots": TaskInfoSerializer(tasks, many=True).data,
        "summary": summary,
        "summary_items": [(status, summary[status]) for status in Status.values],
        "list_limit": LIST_LIMIT,
        "max_bulk_items": app_settings.MAX_BULK_ITEMS,
    })


@login_required
def task_detail(request, task_id):
    """Show one job the user may see; anyone else's, unknown or malformed ids are a 404."""
    try:
        task = queries.get_task(task_id, request.user)
    except TaskNotFound:
        # Rendered here rather than raised: under DEBUG (make run) Http404 shows Django's
        # technical page, and a link to a deleted task is an everyday thing, not a bug.
        return render(request, "404.html", {"missing": "task"}, status=404)
    snapshot = task_snapshot(task)
    return render(request, "jobs/task_detail.html", {
        "task": task,
        "snapshot": snapshot,
        "timing": timing_words(snapshot),
        # Same layout as tasks.js's JSON.stringify(result, null, 2), so the live update
        # of a finished job does not reflow the block.
        "result_json": None if task.result is None else json.dumps(task.result, indent=2, ensure_ascii=False),
        "batch_log": batch_log(task),
        "results": results_of(task),
        **group_context(task, snapshot),
    })


def group_context(task: TaskInfo, snapshot: dict) -> dict:
    """Return what a group's page draws (its chunks as a grid) and what a chunk's page links to (its group)."""
    if task.is_group:
        chunks = queries.tasks_for(None).filter(parent=task).order_by("chunk_index").values(
            "id", "chunk_index", "status", "processed_items", "total_items", "attempt")[:CHUNK_GRID_LIMIT]
        return {"chunks": list(chunks), "chunk_grid_limit": CHUNK_GRID_LIMIT,
                "chunk_counts": [(status, snapshot["children"][status]) for status in Status.values]}
    if task.parent_id is not None:
        return {"group": queries.tasks_for(None).filter(pk=task.parent_id).values("id", "name").first()}
    return {}


def results_of(task: TaskInfo) -> dict | None:
    """Return the task kind's readable results (its results_path), or None to show the raw JSON only."""
    try:
        results_path = get_task_kind(task.kind).results_path
    except LookupError:
        return None
    return import_string(results_path)(task) if results_path else None


def batch_log(task: TaskInfo) -> list[dict]:
    """Return the batch entries of task.metadata (see ProgressReporter.report_batch) for display."""
    entries = (task.metadata or {}).get("batches") or []
    return [
        {
            "batch_completed": entry.get("batch_completed"),
            "total_batches": entry.get("total_batches"),
            "at": str(entry.get("at") or ""),
            "time": str(entry.get("at") or "")[11:19],
            "details": " ".join(f"{key}={_plain(value)}" for key, value in entry.items() if key not in BATCH_KEYS),
        }
        for entry in entries
        if isinstance(entry, dict)
    ]


def _plain(value) -> str:
    # Compact, like JSON.stringify in tasks.js.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
