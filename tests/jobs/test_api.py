"""The /api/background-tasks/ contract: shapes, ownership, and a 4xx for every bad input."""

import json
import uuid

import pytest
from django.test import Client
from django_q.models import OrmQ
from rest_framework.test import APIClient

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from tests.factories import article

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/api/background-tasks"


@pytest.mark.parametrize("slash", ["", "/"])
def test_bulk_save_accepts_and_enqueues(api, user, slash):
    response = api.post(f"{BASE}/bulk-save{slash}", {"articles": [article(1), article(2)]}, format="json")
    assert response.status_code == 202, response.content
    task = TaskInfo.objects.get(pk=response.json()["task_id"])
    assert (task.owner, task.kind, task.total_items, task.status) == (user, "bulk_save", 2, Status.PENDING)
    assert OrmQ.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"articles": []}, "articles"),
        ({"articles": "nope"}, "articles"),
        ({"articles": [{"title": "no url"}]}, "articles"),
        ({"articles": [{"url": "not a url"}]}, "articles"),
        ({}, "articles"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_bad_bulk_save_input_is_400_with_field_errors_and_nothing_enqueued(api, body, field):
    response = api.post(f"{BASE}/bulk-save", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TaskInfo.objects.exists() and not OrmQ.objects.exists()


def test_more_than_max_bulk_items_is_400(api, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "MAX_BULK_ITEMS": 3}
    response = api.post(f"{BASE}/bulk-save", {"articles": [article(n) for n in range(4)]}, format="json")
    assert response.status_code == 400
    assert "At most 3 articles" in str(response.json()["articles"])
    assert not TaskInfo.objects.exists()


def test_body_over_the_size_limit_is_413_with_a_reason(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"articles": [article(1, content="x" * 5000)]}
    response = api.post(f"{BASE}/bulk-save", body, format="json")
    assert response.status_code == 413
    assert "too large" in json.dumps(response.json()).lower()
    assert not TaskInfo.objects.exists()


def test_malformed_json_is_400(api):
    response = api.post(f"{BASE}/bulk-save", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/bulk-save"),
        ("get", "/tasks"),
        ("get", "/summary"),
        ("get", f"/task/{uuid.uuid4()}"),
        ("delete", f"/task/{uuid.uuid4()}"),
        ("post", "/cleanup"),
    ],
)
def test_every_endpoint_needs_a_login(method, path):
    response = getattr(APIClient(), method)(f"{BASE}{path}", {}, format="json")
    assert response.status_code in (401, 403)


def test_task_detail_shows_the_full_record(api, user):
    task_id = lifecycle.create_task("mine", total_items=3, owner=user, metadata={"topic": "x"})
    body = api.get(f"{BASE}/task/{task_id}").json()
    assert body["id"] == str(task_id) and body["status"] == "pending" and body["kind"] == "bulk_save"
    assert body["metadata"] == {"topic": "x"} and body["seq"] >= 1 and body["owner"] == "alice"
    for field in ["name", "created_at", "started_at", "completed_at", "progress", "total_items",
                  "processed_items", "current_item", "result", "error"]:
        assert field in body
    assert "params" not in body


def test_another_users_task_is_404_for_get_and_cancel_and_stays_unchanged(user, other_api):
    task_id = lifecycle.create_task("alice's", owner=user)
    assert other_api.get(f"{BASE}/task/{task_id}").status_code == 404
    assert other_api.delete(f"{BASE}/task/{task_id}").status_code == 404
    assert TaskInfo.objects.get(pk=task_id).status == Status.PENDING
    assert other_api.get(f"{BASE}/tasks").json()["count"] == 0


@pytest.mark.parametrize("task_id", [uuid.uuid4(), "not-a-uuid", "123"])
def test_unknown_or_malformed_id_is_404(api, task_id):
    assert api.get(f"{BASE}/task/{task_id}").status_code == 404
    assert api.delete(f"{BASE}/task/{task_id}").status_code == 404


def test_staff_see_and_cancel_everyones_tasks(user, other_user, staff_api):
    mine = lifecycle.create_task("a", owner=user)
    theirs = lifecycle.create_task("b", owner=other_user)
    listed = staff_api.get(f"{BASE}/tasks").json()
    assert {t["id"] for t in listed["tasks"]} == {str(mine), str(theirs)}
    assert staff_api.delete(f"{BASE}/task/{theirs}").json()["status"] == "cancelled"


def test_cancel_pending_then_again_is_409_with_the_reason(api, user):
    task_id = lifecycle.create_task("t", owner=user)
    response = api.delete(f"{BASE}/task/{task_id}/")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Task cancelled", "status": "cancelled"}
    again = api.delete(f"{BASE}/task/{task_id}")
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]


def test_cancel_running_reports_the_request(api, user):
    task_id = lifecycle.create_task("t", owner=user)
    lifecycle.start_task(task_id)
    body = api.delete(f"{BASE}/task/{task_id}").json()
    assert body["success"] and body["status"] == "running" and "requested" in body["message"]


def test_task_list_is_newest_first_with_summary_count_and_status_filter(api, user, other_user):
    first = lifecycle.create_task("first", owner=user)
    second = lifecycle.create_task("second", owner=user)
    lifecycle.create_task("not mine", owner=other_user)
    lifecycle.cancel_task(first, by=user)
    body = api.get(f"{BASE}/tasks").json()
    assert [t["id"] for t in body["tasks"]] == [str(second), str(first)]
    assert body["count"] == 2
    assert body["summary"] == {"total": 2, "pending": 1, "running": 0, "completed": 0, "failed": 0, "cancelled": 1}
    only = api.get(f"{BASE}/tasks/?status=cancelled").json()
    assert [t["id"] for t in only["tasks"]] == [str(first)] and only["count"] == 1


def test_task_list_is_paginated(api, user):
    for n in range(5):
        lifecycle.create_task(f"t{n}", owner=user)
    body = api.get(f"{BASE}/tasks?limit=2").json()
    assert len(body["tasks"]) == 2 and body["count"] == 5 and body["next"]


def test_unknown_status_filter_is_400_listing_the_valid_ones(api):
    response = api.get(f"{BASE}/tasks?status=bogus")
    assert response.status_code == 400
    message = json.dumps(response.json())
    for status in ["pending", "running", "completed", "failed", "cancelled"]:
        assert status in message


def test_summary_counts_only_the_callers_tasks(api, user, other_user):
    lifecycle.create_task("a", owner=user)
    lifecycle.create_task("b", owner=other_user)
    assert api.get(f"{BASE}/summary").json()["total"] == 1


def test_cleanup_is_staff_only_and_deletes_old_finished_tasks(api, staff_api, user):
    old = lifecycle.create_task("old", owner=user)
    lifecycle.cancel_task(old, by=user)
    TaskInfo.objects.filter(pk=old).update(completed_at="2020-01-01T00:00:00Z")
    running = lifecycle.create_task("running", owner=user)
    assert api.post(f"{BASE}/cleanup", {"max_age_hours": 1}, format="json").status_code == 403
    response = staff_api.post(f"{BASE}/cleanup/", {"max_age_hours": 1}, format="json")
    assert response.json() == {"deleted": 1, "max_age_hours": 1.0}
    assert list(TaskInfo.objects.values_list("pk", flat=True)) == [running]


def test_cleanup_rejects_a_negative_age(staff_api):
    response = staff_api.post(f"{BASE}/cleanup", {"max_age_hours": -1}, format="json")
    assert response.status_code == 400 and "max_age_hours" in response.json()


def test_token_login_then_token_auth(user):
    client = APIClient()
    token = client.post("/api/auth/token", {"username": "alice", "password": "alice-password"}, format="json")
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert client.get(f"{BASE}/summary").status_code == 200
    bad = APIClient().post("/api/auth/token", {"username": "alice", "password": "wrong"}, format="json")
    assert bad.status_code == 401


def test_session_auth_enforces_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"{BASE}/bulk-save", {"articles": [article(1)]}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/background-tasks/bulk-save" in schema.content
    assert api.get("/api/docs/").status_code == 200


def test_bulk_save_keeps_a_topic_for_live_subscribers(api):
    response = api.post(f"{BASE}/bulk-save", {"articles": [article(1)], "topic": "energy"}, format="json")
    assert TaskInfo.objects.get(pk=response.json()["task_id"]).metadata == {"topic": "energy"}


@pytest.mark.parametrize("topic", [{"a": 1}, ["x"], "x" * 201])
def test_bulk_save_refuses_a_topic_that_is_not_a_short_name(api, topic):
    response = api.post(f"{BASE}/bulk-save", {"articles": [article(1)], "topic": topic}, format="json")
    assert response.status_code == 400 and "topic" in response.json()
    assert not TaskInfo.objects.exists()


def test_cleanup_refuses_an_age_that_would_overflow(staff_api):
    response = staff_api.post(f"{BASE}/cleanup", {"max_age_hours": 1e12}, format="json")
    assert response.status_code == 400 and "max_age_hours" in response.json()
