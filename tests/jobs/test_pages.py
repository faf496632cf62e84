"""The task pages: login, ownership, and the state they render before any socket connects."""

import json
import re

import pytest

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from jobs.reporting import ProgressReporter

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def snapshots_on(response, element_id="task-snapshots"):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.text, re.DOTALL)
    return json.loads(match.group(1))


def row_ids(response):
    return re.findall(r'<tr class="task-row" data-task-id="([0-9a-f-]+)"', response.text)


@pytest.mark.parametrize("path", ["/tasks/", "/tasks/00000000-0000-0000-0000-000000000000/"])
def test_pages_send_anonymous_visitors_to_the_login_form(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_site_root_leads_to_the_task_list(client):
    assert client.get("/")["Location"] == "/tasks/"


def test_task_list_shows_only_the_users_jobs_newest_first(browser, make_task, other_user):
    first, second = make_task(), make_task()
    make_task(owner=other_user)
    response = browser.get("/tasks/")
    assert response.status_code == 200
    assert row_ids(response) == [str(second), str(first)]
    assert [task["id"] for task in snapshots_on(response)] == [str(second), str(first)]


def test_staff_sees_every_users_jobs_on_the_list(client, staff_user, make_task, other_user):
    mine, theirs = make_task(), make_task(owner=other_user)
    client.force_login(staff_user)
    assert set(row_ids(client.get("/tasks/"))) == {str(mine), str(theirs)}


def test_task_list_renders_the_summary_counts(browser, make_task, other_user):
    pending = make_task()
    done = make_task()
    lifecycle.start_task(done)
    lifecycle.finish_task(done, Status.COMPLETED, result={"saved": 1})
    lifecycle.cancel_task(pending)
    make_task()
    make_task(owner=other_user)  # not counted for this user
    text = browser.get("/tasks/").text
    counts = {status: int(count) for status, count in re.findall(r'data-count="(\w+)">(\d+)<', text)}
    assert counts == {"pending": 1, "running": 0, "completed": 1, "failed": 0, "cancelled": 1}


def test_task_list_offers_cancel_only_for_unfinished_jobs(browser, make_task):
    unfinished, finished = make_task(), make_task()
    lifecycle.cancel_task(finished)
    text = browser.get("/tasks/").text
    rows = dict(re.findall(r'data-task-id="([0-9a-f-]+)".*?(<button[^>]*>)', text, re.DOTALL))
    assert " hidden" not in rows[str(unfinished)]
    assert " hidden" in rows[str(finished)]


def test_task_list_renders_progress_of_a_running_job(browser, make_task):
    task_id = make_task(total_items=8)
    lifecycle.start_task(task_id)
    ProgressReporter(task_id, total_items=8)(2, current="https://example.com/a/2")
    text = browser.get("/tasks/").text
    assert 'aria-valuenow="25"' in text and "width: 25.00%" in text
    assert "2 / 8" in text and "https://example.com/a/2" in text


def test_task_list_of_a_new_user_invites_to_start_a_demo(browser):
    text = browser.get("/tasks/").text
    assert 'id="demo-form"' in text and "No jobs yet" in text
    assert snapshots_on(browser.get("/tasks/")) == []


def test_detail_page_renders_the_current_state(browser, make_task):
    task_id = make_task(total_items=4)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, total_items=4)
    reporter(3, current="https://example.com/x/3")
    reporter.report_batch(1, 2, saved=3, errors=["bad url"])
    response = browser.get(f"/tasks/{task_id}/")
    assert response.status_code == 200
    text = response.text
    task = TaskInfo.objects.get(pk=task_id)
    assert 'data-field="status">running<' in text
    assert "3 / 4 · 75 %" in text and "https://example.com/x/3" in text
    assert "Batch 1 / 2" in text and 'saved=3 errors=[&quot;bad url&quot;]' in text
    assert snapshots_on(response, "task-snapshot")["seq"] == task.seq
    assert 'data-action="cancel">' in text  # visible: the job can still be cancelled


def test_detail_page_shows_the_result_of_a_completed_job(browser, make_task):
    task_id = make_task(total_items=2)
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 2, "duplicates": 0, "errors": []},
                          processed_items=2)
    text = browser.get(f"/tasks/{task_id}/").text
    assert '"saved": 2' in text and "2 / 2 · 100 %" in text
    assert 'data-action="cancel" hidden' in text
    assert '<section class="card" data-section="error" hidden>' in text


def test_detail_page_shows_the_error_of_a_failed_job(browser, make_task):
    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, Status.FAILED, error="ValueError: broken <input>")
    text = browser.get(f"/tasks/{task_id}/").text
    assert 'data-field="status">failed<' in text
    assert "ValueError: broken &lt;input&gt;" in text  # escaped, never raw markup
    assert '<section class="card" data-section="result" hidden>' in text


def test_detail_page_shows_a_requested_cancel_as_cancelling(browser, make_task, user):
    task_id = make_task()
    lifecycle.start_task(task_id)
    lifecycle.cancel_task(task_id, by=user)
    assert "cancelling…" in browser.get(f"/tasks/{task_id}/").text


@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "1"])
def test_detail_page_of_unknown_or_malformed_id_is_404(browser, task_id):
    assert browser.get(f"/tasks/{task_id}/").status_code == 404


def test_detail_page_of_someone_elses_job_is_404(browser, make_task, other_user):
    assert browser.get(f"/tasks/{make_task(owner=other_user)}/").status_code == 404


def test_staff_may_open_any_users_job(client, staff_user, make_task, other_user):
    client.force_login(staff_user)
    assert client.get(f"/tasks/{make_task(owner=other_user)}/").status_code == 200


def test_pages_carry_the_csrf_token_the_cancel_and_demo_requests_send(browser, make_task):
    task_id = make_task()
    for path in ("/tasks/", f"/tasks/{task_id}/"):
        text = browser.get(path).text
        assert re.search(r'<meta name="csrf-token" content="\w{32,}">', text)
        assert "/static/js/live-socket.js" in text and "/static/js/tasks.js" in text


def test_system_jobs_without_owner_show_for_staff(client, staff_user):
    task_id = lifecycle.create_task(name="system job", owner=None)
    client.force_login(staff_user)
    assert "<dd>system</dd>" in client.get(f"/tasks/{task_id}/").text
