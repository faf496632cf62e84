"""live-socket.js and the pages' handling of job_update messages, in real Chromium.

The server end of each WebSocket is played by the test (Playwright's WebSocket routing),
so every message order, a stale update and a dropped connection can be made on purpose;
the pages themselves and the REST API come from a real daphne.
"""

import json
import time

import pytest

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.serializers import task_snapshot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class FakeServer:
    """Plays the server side of every socket the page opens to a routed path."""

    def __init__(self, page, pattern: str):
        self.page = page
        self.sockets = []
        self.received = []
        page.route_web_socket(pattern, self._accept)

    def _accept(self, ws):
        ws.on_message(lambda message: self.received.append(json.loads(message)))
        self.sockets.append(ws)

    def wait_for_connections(self, count: int, timeout: float = 15) -> None:
        # Routed sockets arrive only while Playwright runs its loop, so wait inside it.
        deadline = time.monotonic() + timeout
        while len(self.sockets) < count:
            assert time.monotonic() < deadline, f"timed out waiting for {count} socket(s)"
            self.page.wait_for_timeout(50)

    def send(self, message: dict, socket_index: int = -1) -> None:
        self.sockets[socket_index].send(json.dumps(message, default=str))


def job_update(task_id, *, status="progress", **changes) -> dict:
    """A job_update as the server sends it: the row's snapshot, with changes laid over it.

    status is the message's word; status_ sets the snapshot's status.
    """
    if "status_" in changes:
        changes["status"] = changes.pop("status_")
    snapshot = {**task_snapshot(TaskInfo.objects.get(pk=task_id)), **changes}
    return {"type": "job_update", "job_id": str(task_id), "status": status, "seq": snapshot["seq"],
            "task": snapshot}


def running_task(owner, total_items=10):
    task_id = lifecycle.create_task(name="routed job", total_items=total_items, owner=owner)
    lifecycle.start_task(task_id)
    return task_id


def record_texts(page, selector: str) -> None:
    """Keep every text the element shows in window.__texts, however briefly it shows it."""
    page.evaluate("""selector => {
        const element = document.querySelector(selector);
        window.__texts = [element.textContent];
        new MutationObserver(() => window.__texts.push(element.textContent))
            .observe(element, {childList: true, characterData: true, subtree: true});
    }""", selector)


def open_detail_page(page, user):
    """Open the page of a new running job of user's, its socket answered by a FakeServer."""
    task_id = running_task(user)
    server = FakeServer(page, "**/ws/bulk-process/**")
    page.goto(f"/tasks/{task_id}/")
    server.wait_for_connections(1)
    return task_id, server


def test_detail_page_ignores_updates_not_newer_than_what_it_shows(logged_in_page, user):
    page = logged_in_page
    task_id, server = open_detail_page(page, user)
    seq = TaskInfo.objects.get(pk=task_id).seq
    counts = '#task [data-field="counts"]'
    record_texts(page, counts)

    server.send({"type": "connection_established", "status": "connected", "job_id": str(task_id)})
    server.send(job_update(task_id, seq=seq + 5, processed_items=6, progress=60.0))
    server.send(job_update(task_id, seq=seq + 3, processed_items=3, progress=30.0))  # late: older
    server.send(job_update(task_id, seq=seq + 5, processed_items=5, progress=50.0))  # same seq: not newer
    server.send(job_update(task_id, seq=seq + 6, processed_items=7, progress=70.0))

    page.wait_for_function("s => document.querySelector(s).textContent.includes('70 %')", arg=counts)
    shown = page.evaluate("window.__texts")
    assert any("6 / 10 · 60 %" in text for text in shown)
    assert not any("30 %" in text or "50 %" in text for text in shown), shown
    assert page.get_attribute('#task [data-field="progress"]', "aria-valuenow") == "70"


def test_detail_page_says_reconnecting_and_recovers_from_the_snapshot(logged_in_page, user):
    page = logged_in_page
    task_id, server = open_detail_page(page, user)
    indicator = page.locator("[data-live-state]")
    server.send(job_update(task_id, seq=100, processed_items=4, progress=40.0))
    page.wait_for_selector("text=4 / 10 · 40 %")
    assert indicator.text_content() == "live"

    server.sockets[0].close(code=1011, reason="server restarting")
    page.wait_for_selector('[data-live-state][data-state="reconnecting"]')
    assert indicator.text_content() == "reconnecting…"

    # The job finished while the page was away; the snapshot on reconnect is all it gets.
    server.wait_for_connections(2)
    server.send(job_update(task_id, status="completed", status_="completed", seq=140, processed_items=10,
                           progress=100.0, result={"saved": 10, "duplicates": 0, "errors": []}))
    page.wait_for_selector('#task [data-field="status"]:text-is("completed")')
    assert indicator.text_content() == "live"
    assert page.text_content('#task [data-field="counts"]') == "10 / 10 · 100 %"
    assert '"saved": 10' in page.text_content('[data-field="result"]')
    assert page.is_hidden('#task [data-action="cancel"]')


def test_socket_refused_by_the_server_stops_retrying(logged_in_page, user):
    page = logged_in_page
    _, server = open_detail_page(page, user)
    server.sockets[0].close(code=4404, reason="no such job")
    page.wait_for_selector('[data-live-state][data-state="closed"]')
    page.wait_for_timeout(1500)  # longer than the first backoff delays
    assert len(server.sockets) == 1


def test_reconnect_delays_grow_with_jitter_up_to_the_cap(logged_in_page):
    delays = logged_in_page.evaluate("""() => {
        const out = [];
        for (let attempt = 0; attempt < 12; attempt++) {
            out.push([LiveSocket.backoffDelay(attempt, 500, 15000, () => 0),
                      LiveSocket.backoffDelay(attempt, 500, 15000, () => 0.999)]);
        }
        return out;
    }""")
    lows = [low for low, _ in delays]
    highs = [high for _, high in delays]
    assert lows[:4] == [250, 500, 1000, 2000]
    assert all(low < high for low, high in delays)  # jitter spreads each delay
    assert max(highs) <= 15000 and lows[-1] == 7500  # capped


def test_list_page_adds_a_job_created_after_it_loaded(logged_in_page, user):
    page = logged_in_page
    server = FakeServer(page, "**/ws/tasks/**")
    page.goto("/tasks/")
    server.wait_for_connections(1)
    page.evaluate("window.__notReloaded = true")
    assert page.locator("tr.task-row").count() == 0

    task_id = lifecycle.create_task(name="made after the page loaded", total_items=5, owner=user)
    server.send(job_update(task_id, status="pending"))
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    row.wait_for()
    assert row.locator('[data-field="name"]').text_content() == "made after the page loaded"
    assert row.locator('[data-field="link"]').get_attribute("href") == f"/tasks/{task_id}/"
    # The counts come from the database, not from counting messages.
    page.wait_for_selector('[data-count="pending"]:text-is("1")')
    assert page.is_hidden("#no-tasks")

    lifecycle.start_task(task_id)
    TaskInfo.objects.filter(pk=task_id).update(status=Status.RUNNING)
    server.send(job_update(task_id, processed_items=2, progress=40.0))
    row.locator("text=2 / 5 · 40 %").wait_for()
    page.wait_for_selector('[data-count="running"]:text-is("1")')
    assert page.evaluate("window.__notReloaded") is True


def test_detail_page_shows_batches_error_and_result_as_they_arrive(logged_in_page, user):
    page = logged_in_page
    task_id, server = open_detail_page(page, user)
    assert page.is_visible('[data-empty="batches"]')

    batches = [{"batch_completed": 1, "total_batches": 2, "at": "2026-11-28T18:00:01+00:00", "saved": 100},
               {"batch_completed": 2, "total_batches": 2, "at": "2026-11-28T18:00:02+00:00",
                "errors": [{"index": 7, "error": "url: Enter a valid URL."}]}]
    server.send(job_update(task_id, status="batch_update", seq=50, metadata={"batches": batches}))
    page.wait_for_selector(".batch-log li >> nth=1")
    assert page.locator(".batch-log li").all_text_contents() == [
        "Batch 1 / 2 18:00:01 saved=100",
        'Batch 2 / 2 18:00:02 errors=[{"index":7,"error":"url: Enter a valid URL."}]',
    ]
    assert page.is_hidden('[data-empty="batches"]')

    server.send(job_update(task_id, status="error", status_="failed", seq=51, metadata={"batches": batches},
                           error="<b>TypeError</b>: boom", completed_at="2026-11-28T18:00:03Z"))
    page.wait_for_selector('#task [data-field="status"]:text-is("failed")')
    assert page.text_content('[data-field="error"]') == "<b>TypeError</b>: boom"  # text, never markup
    assert page.text_content('[data-field="completed_at"]') == "2026-11-28 18:00:03"
    assert page.is_hidden('[data-section="result"]') and page.is_hidden('#task [data-action="cancel"]')
