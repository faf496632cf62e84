"""The task pages against the whole system: Chromium, daphne, a django-q2 cluster, PostgreSQL, Redis."""

import threading
from contextlib import contextmanager

import httpx
import pytest
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from articles.models import Article
from jobs import lifecycle
from jobs.models import Status, TaskInfo
from tests.processes import wait_for

from .conftest import restart_daphne, screenshot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def articles(count: int, prefix: str = "held") -> list[dict]:
    return [{"url": f"https://example.com/{prefix}/{n}", "title": f"Article {n}"} for n in range(count)]


@contextmanager
def article_held(url: str):
    """Hold an uncommitted Article with url, so a job saving that url waits at its insert.

    It gives a test a job that stays running, mid-way, for as long as it needs; the job
    goes on when the block ends (the held row is rolled back).
    """
    inserted, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Article.objects.create(url=url, title="held by the test")
                inserted.set()
                release.wait(60)
                transaction.set_rollback(True)
        finally:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert inserted.wait(10), "could not hold the article"
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def start_held_job(owner, total: int = 300) -> str:
    """Start a bulk save of held/0… and wait until it has saved its first batch (100).

    Under article_held(".../held/150") it then stays running at its second batch.
    """
    task_id = str(lifecycle.create_task(name=f"Long bulk save of {total} articles", total_items=total,
                                        owner=owner, params={"articles": articles(total)}))
    wait_for(lambda: TaskInfo.objects.filter(pk=task_id, status=Status.RUNNING, processed_items__gte=1).exists(),
             timeout=30, message="the job to run its first batch")
    return task_id


def status_of(task_id) -> str:
    return TaskInfo.objects.values_list("status", flat=True).get(pk=task_id)


def record(page, selector: str, attribute: str | None = None) -> None:
    """Keep every text (or attribute value) the element shows in window.__seen."""
    page.evaluate("""([selector, attribute]) => {
        const element = document.querySelector(selector);
        const read = () => attribute ? element.getAttribute(attribute) : element.textContent;
        window.__seen = [read()];
        new MutationObserver(() => window.__seen.push(read())).observe(
            element, {childList: true, characterData: true, subtree: true, attributes: true});
    }""", [selector, attribute])


def test_login_start_a_job_and_watch_its_bar_reach_100_percent(site, logged_in_page):
    page = logged_in_page
    page.wait_for_selector('[data-live-state][data-state="live"]')
    page.evaluate("window.__notReloaded = true")
    api_reads = []
    page.on("request", lambda request: "/api/background-tasks/task/" in request.url and api_reads.append(request))

    page.fill("#demo-form input[name=count]", "1000")
    page.click("#demo-form button[type=submit]")
    row = page.locator("tr.task-row").first
    row.wait_for()
    task_id = row.get_attribute("data-task-id")
    record(page, f'tr[data-task-id="{task_id}"] [data-field="status"]')

    row.locator('[data-field="status"]:text-is("completed")').wait_for(timeout=60_000)
    assert row.locator('[data-field="progress"]').get_attribute("aria-valuenow") == "100"
    assert row.locator('[data-field="counts"]').text_content() == "1000 / 1000 · 100 %"
    assert row.locator('[data-action="cancel"]').is_hidden()
    page.wait_for_selector('[data-count="completed"]:text-is("1")')
    assert page.evaluate("window.__notReloaded") is True
    # One REST read right after the start; every later state came over the socket.
    assert len(api_reads) == 1
    statuses = page.evaluate("window.__seen")
    assert statuses[0] in ("pending", "running") and statuses[-1] == "completed", statuses

    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.COMPLETED and task.result["saved"] == 1000
    assert Article.objects.filter(source="demo").count() == 1000
    screenshot(page, "task-list-completed")


def test_a_job_started_elsewhere_appears_and_runs_without_reload(site, logged_in_page, user):
    page = logged_in_page
    page.wait_for_selector('[data-live-state][data-state="live"]')
    page.evaluate("window.__notReloaded = true")
    token = Token.objects.create(user=user).key
    answer = httpx.post(f"{site.http_url}/api/background-tasks/bulk-save", headers={"Authorization": f"Token {token}"},
                        json={"articles": articles(250, prefix="elsewhere")}, timeout=10)
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["task_id"]
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    row.locator('[data-field="status"]:text-is("completed")').wait_for(timeout=60_000)
    assert row.locator('[data-field="counts"]').text_content() == "250 / 250 · 100 %"
    assert page.evaluate("window.__notReloaded") is True


def test_cancel_a_running_job_from_its_page(site, logged_in_page, user):
    page = logged_in_page
    with article_held("https://example.com/held/150"):
        task_id = start_held_job(user)
        page.goto(f"/tasks/{task_id}/")
        page.wait_for_selector('[data-live-state][data-state="live"]')
        status = page.locator('#task [data-field="status"]')
        assert status.text_content() == "running"
        assert page.text_content('#task [data-field="counts"]').startswith("1 / 300")
        screenshot(page, "task-detail-running")

        page.click('#task [data-action="cancel"]')
        page.wait_for_selector("[data-cancel-message]:has-text('Cancellation requested')")
        page.wait_for_selector('#task [data-field="status"]:text-is("cancelling…")')
        assert status_of(task_id) == Status.RUNNING  # the worker is still at its held insert
    # The hold is over: the worker's next progress report sees the request and stops.
    page.wait_for_selector('#task [data-field="status"]:text-is("cancelled")', timeout=30_000)
    assert page.is_hidden('#task [data-action="cancel"]')
    assert page.text_content('[data-field="error"]') == "Cancelled on request"
    task = TaskInfo.objects.get(pk=task_id)
    assert task.status == Status.CANCELLED and task.processed_items < 300
    assert task.result["saved"] == 200  # the batches saved before the stop are kept
    assert Article.objects.count() == 200
    screenshot(page, "task-detail-cancelled")


def test_pages_recover_the_final_state_after_the_server_restarts_mid_job(site, logged_in_page, user):
    detail = logged_in_page
    listing = detail.context.new_page()
    server = site
    try:
        with article_held("https://example.com/held/150"):
            task_id = start_held_job(user)
            detail.goto(f"/tasks/{task_id}/")
            listing.goto("/tasks/")
            for page in (detail, listing):
                page.wait_for_selector('[data-live-state][data-state="live"]')
                page.evaluate("window.__notReloaded = true")

            server.stop()
            for page in (detail, listing):
                page.wait_for_selector('[data-live-state]:text-is("reconnecting…")')
        # The job ends while no server is there to tell the pages.
        wait_for(lambda: status_of(task_id) == Status.COMPLETED, timeout=30, message="the job to complete")
        server = restart_daphne(server)

        detail.wait_for_selector('#task [data-field="status"]:text-is("completed")', timeout=30_000)
        assert detail.text_content('#task [data-field="counts"]') == "300 / 300 · 100 %"
        assert '"saved": 300' in detail.text_content('[data-field="result"]')
        row = listing.locator(f'tr[data-task-id="{task_id}"]')
        row.locator('[data-field="status"]:text-is("completed")').wait_for(timeout=30_000)
        listing.wait_for_selector('[data-count="completed"]:text-is("1")')
        for page in (detail, listing):
            assert page.text_content("[data-live-state]") == "live"
            assert page.evaluate("window.__notReloaded") is True
    finally:
        if server is not site:
            server.stop()
