"""The time a running job still needs, live on its page and in the list, against the whole system."""

import re

import pytest

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from tests.processes import wait_for

from .conftest import screenshot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TIME_LEFT = re.compile(r"^(a few seconds|\d+ s|about \d+ min) left · [\d.]+ items/s$")


def counting_task(owner, items: int, delay: float) -> str:
    return str(lifecycle.create_task(name=f"Count to {items}", total_items=items, owner=owner, kind="counting",
                                     params={"items": items, "delay": delay}))


def timing_text(page, selector: str) -> str:
    return page.locator(selector).first.text_content().strip()


def test_running_job_shows_its_time_left_and_rate_live(site, logged_in_page, user):
    page = logged_in_page
    task_id = counting_task(user, items=120, delay=0.1)  # about 12 s at 10 items/s
    wait_for(lambda: TaskInfo.objects.filter(pk=task_id, status=Status.RUNNING).exists(), timeout=30,
             message="the job to start")
    page.goto(f"/tasks/{task_id}/")
    detail = "#task [data-field='timing']"
    # The words come with a progress write once the job has run a second, without a reload.
    page.wait_for_function(
        """selector => / left · [\\d.]+ items\\/s$/.test(document.querySelector(selector).textContent.trim())""",
        arg=detail, timeout=20_000)
    assert TIME_LEFT.match(timing_text(page, detail)), timing_text(page, detail)
    screenshot(page, "task-detail-time-left")
    assert status_is(task_id, Status.RUNNING)

    page.goto("/tasks/")
    row = f"tr[data-task-id='{task_id}'] [data-field='timing']"
    page.wait_for_function("""selector => / left · /.test(document.querySelector(selector).textContent)""",
                           arg=row, timeout=20_000)
    # When the job ends, the words go: nothing is left to wait for.
    page.wait_for_function("""selector => document.querySelector(selector).closest('tr').dataset.status
                              === 'completed'""", arg=row, timeout=30_000)
    assert timing_text(page, row) == ""


def test_pending_jobs_show_their_place_in_line(site, logged_in_page, user):
    page = logged_in_page
    # Fill the cluster's workers with slow jobs, so the last ones wait in line.
    workers = 3
    tasks = [counting_task(user, items=40, delay=0.25) for _ in range(workers + 2)]
    last = tasks[-1]
    wait_for(lambda: TaskInfo.objects.filter(pk__in=tasks, status=Status.RUNNING).count() >= 1, timeout=30,
             message="a job to start")
    if not TaskInfo.objects.filter(pk=last, status=Status.PENDING).exists():
        pytest.skip("the cluster took every job at once; no queue to show")
    page.goto(f"/tasks/{last}/")
    text = timing_text(page, "#task [data-field='timing']")
    assert re.match(r"^\d+(st|nd|rd|th) in line$", text), text
    for task_id in tasks:
        lifecycle.cancel_task(task_id, by=user)


def status_is(task_id, status) -> bool:
    return TaskInfo.objects.filter(pk=task_id, status=status).exists()
