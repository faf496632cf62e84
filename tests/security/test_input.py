"""Item 4: input is validated, not stored raw: known fields only, storable text, bounded sizes."""

import json

import pytest
from rest_framework.test import APIClient

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from tests.factories import article

pytestmark = pytest.mark.django_db

BULK_SAVE = "/api/background-tasks/bulk-save"
CLEANUP = "/api/background-tasks/cleanup"


def test_unknown_article_keys_are_a_400_naming_them(api):
    body = {"articles": [article(1), {**article(2), "junk": 1, "is_admin": True}]}
    response = api.post(BULK_SAVE, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"articles": {"1": {"junk": ["Unknown field."], "is_admin": ["Unknown field."]}}}
    assert not TaskInfo.objects.exists()


def test_a_four_megabyte_junk_key_is_refused_and_not_echoed(api):
    junk = "k" * (4 * 1024 * 1024)
    response = api.post(BULK_SAVE, {"articles": [{**article(1), junk: "v"}]}, format="json")
    assert response.status_code == 400
    assert len(response.content) < 1000
    assert not TaskInfo.objects.exists()


def test_unknown_top_level_keys_are_a_400(api):
    response = api.post(BULK_SAVE, {"articles": [article(1)], "owner": "admin"}, format="json")
    assert response.status_code == 400 and response.json() == {"owner": ["Unknown field."]}


def test_accepted_articles_are_stored_with_their_known_fields_only(api):
    response = api.post(BULK_SAVE, {"articles": [article(1)]}, format="json")
    assert response.status_code == 202
    stored = TaskInfo.objects.get().params["articles"]
    assert set(stored[0]) <= {"url", "title", "content", "source", "topic", "published_at"}


@pytest.mark.parametrize("field, value", [
    ("title", "a\x00b"), ("content", "x\x00"), ("source", "\x00"), ("url", "https://example.com/\x00"),
])
def test_nul_bytes_in_text_fields_are_a_400(api, field, value):
    response = api.post(BULK_SAVE, {"articles": [{**article(1), field: value}]}, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json()) or "U+0000" in json.dumps(response.json())


@pytest.mark.parametrize("field, length", [("title", 501), ("content", 200_001), ("source", 201), ("topic", 201)])
def test_text_sizes_are_bounded(api, field, length):
    response = api.post(BULK_SAVE, {"articles": [{**article(1), field: "x" * length}]}, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json())


@pytest.fixture
def finished_task(user):
    task_id = lifecycle.create_task(name="old", total_items=1, owner=user, kind="bulk_save", params={})
    TaskInfo.objects.filter(pk=task_id).update(status=Status.COMPLETED, completed_at="2000-01-01T00:00:00Z")
    return task_id


@pytest.mark.parametrize("value", [False, True, "0", "24", 1.5, 0.0, None, -1, [], {}, 10**9])
def test_cleanup_max_age_hours_must_be_a_whole_number_of_hours(staff_api, finished_task, value):
    response = staff_api.post(CLEANUP, {"max_age_hours": value}, format="json")
    assert response.status_code == 400, value
    assert "max_age_hours" in response.json()
    assert TaskInfo.objects.filter(pk=finished_task).exists()


def test_cleanup_takes_an_integer_zero(staff_api, finished_task):
    response = staff_api.post(CLEANUP, {"max_age_hours": 0}, format="json")
    assert response.status_code == 200 and response.json() == {"deleted": 1, "max_age_hours": 0}


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=-1", "limit=501", "offset=null", "offset=-1",
                                   "status=nope"])
def test_task_list_query_errors_are_a_400(api, query):
    assert api.get(f"/api/background-tasks/tasks?{query}").status_code == 400


def test_keyword_check_group_id_is_strict(api):
    for value in (True, "1", 1.0):
        response = api.post("/api/background-tasks/keyword-check", {"group_id": value}, format="json")
        assert response.status_code == 400, value


def test_keyword_check_with_no_body_checks_every_group(api):
    response = APIClient.post(api, "/api/background-tasks/keyword-check")
    assert response.status_code == 202
