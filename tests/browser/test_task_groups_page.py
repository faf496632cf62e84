"""A task group's page in Chromium: one bar for the group, and its chunks as a grid that follows them live."""

import time

import pytest

from jobs import lifecycle
from tests.processes import Qcluster

from .conftest import _without_async_unsafe, screenshot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PACED_KIND = "paced_group"
PACED_JOB = f"{PACED_KIND}=tests.browser.test_task_groups_page.paced_items_job:items"


def paced_items_job(progress_callback, items: list, delay: float = 0.0) -> dict:
    """Report each item done, delay seconds apiece (runs in the cluster's workers)."""
    for done, item in enumerate(items, start=1):
        time.sleep(delay)
        progress_callback(done, current=item)
    return {"counted": len(items)}


@pytest.fixture
def paced_cluster(settings, daphne):
    kinds = f"{settings.STATUSMSG['EXTRA_JOB_KINDS']},{PACED_JOB}"
    settings.STATUSMSG = {**settings.STATUSMSG, "EXTRA_JOB_KINDS": kinds, "CHUNK_SIZE": 10}
    cluster = _without_async_unsafe(Qcluster(STATUSMSG_EXTRA_JOB_KINDS=kinds)).start()
    yield cluster
    cluster.stop()


def test_a_groups_page_shows_one_bar_and_its_chunks_running_then_done(paced_cluster, logged_in_page, user):
    page = logged_in_page
    # Five chunks on three workers: two wait while three run, then run while the first ones end.
    items = [f"item {n}" for n in range(50)]
    parent_id = str(lifecycle.create_task("Paced group", total_items=50, owner=user, kind=PACED_KIND,
                                          params={"items": items, "delay": 0.12}))
    page.goto(f"/tasks/{parent_id}/")
    assert page.locator('[data-field="chunks"] .chunk').count() == 5
    page.evaluate("""() => {
        const grid = document.querySelector('[data-field="chunks"]');
        window.__cells = [];
        new MutationObserver(() => window.__cells.push(
            Array.from(grid.querySelectorAll('.chunk'), (cell) => cell.className).join(' '))
        ).observe(grid, {childList: true, subtree: true});
    }""")
    try:
        page.wait_for_selector('#task [data-field="status"]:text("completed")', timeout=60_000)
        page.wait_for_function("""() => document.querySelectorAll('[data-field="chunks"] .chunk-completed')
            .length === 5""", timeout=15_000)
    finally:
        screenshot(page, "task-group-page")
    assert page.locator('#task [data-field="counts"]').inner_text().startswith("50 / 50")
    assert page.locator('[data-chunk-count="completed"]').inner_text() == "5"
    # The grid was redrawn while chunks ran, from the group's messages alone.
    drawn = page.evaluate("window.__cells")
    assert any("chunk-running" in cells and "chunk-completed" in cells for cells in drawn), drawn
    assert page.locator('[data-field="chunks"] a').first.get_attribute("href").startswith("/tasks/")
