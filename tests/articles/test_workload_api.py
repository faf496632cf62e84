"""The workload endpoints: what they accept, the 400s and 409 they answer, and who may do what."""

import pytest
from django_q.models import OrmQ
from rest_framework.test import APIClient

from articles.models import KeywordGroup
from jobs.models import Status, TaskInfo

pytestmark = pytest.mark.django_db

BULK = "/api/background-tasks/bulk-analysis"


def urls(count: int) -> list[str]:
    return [f"https://news.example.com/story/{n}" for n in range(count)]


@pytest.mark.parametrize("path", [BULK, BULK + "/"])
def test_bulk_analysis_creates_a_pending_task_and_enqueues_it_after_commit(
        api, user, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(path, {"urls": urls(3), "topic": "climate", "summary_type": "brief",
                                   "batch_size": 2}, format="json")
    assert response.status_code == 202
    task = TaskInfo.objects.get(pk=response.json()["task_id"])
    assert (task.kind, task.status, task.owner, task.total_items) == ("bulk_analysis", Status.PENDING, user, 3)
    assert task.params == {"urls": urls(3), "topic": "climate", "summary_type": "brief", "model_name": "local",
                           "batch_size": 2, "force": False}
    assert OrmQ.objects.count() == 1


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({}, "urls", "This field is required."),
        ({"urls": []}, "urls", "This list may not be empty."),
        ({"urls": "https://example.com/a"}, "urls", 'Expected a list of items but got type "str".'),
        ({"urls": ["https://example.com/a", "ftp://example.com/b"]}, "urls",
         {"1": ["Enter a valid http or https URL."]}),
        ({"urls": ["not a url"]}, "urls", {"0": ["Enter a valid http or https URL."]}),
        ({"urls": ["javascript:alert(1)"]}, "urls", {"0": ["Enter a valid http or https URL."]}),
        ({"urls": ["https://example.com/a", "https://example.com/b", "https://example.com/a"]}, "urls",
         {"2": ["Duplicate of item 0."]}),
        ({"urls": urls(4)}, "urls", "At most 3 urls per request; got 4."),
        ({"urls": urls(1), "summary_type": "epic"}, "summary_type", '"epic" is not a valid choice.'),
        ({"urls": urls(1), "model_name": "gpt-9"}, "model_name", "Unknown model 'gpt-9'; available: local."),
        ({"urls": urls(1), "batch_size": 0}, "batch_size", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_bad_bulk_analysis_input_is_a_400_and_nothing_is_enqueued(
        api, settings, body, field, message, django_capture_on_commit_callbacks):
    settings.STATUSMSG = {**settings.STATUSMSG, "MAX_BULK_ITEMS": 3}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(BULK, body, format="json")
    assert response.status_code == 400
    errors = response.json()[field]
    assert errors == message if isinstance(message, dict) else message in errors
    assert not TaskInfo.objects.exists() and not OrmQ.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.post(BULK, ["https://example.com/a"], format="json")
    assert response.status_code == 400 and not TaskInfo.objects.exists()


def test_a_configured_llm_model_is_accepted(api, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "LLM_BASE_URL": "http://llm.internal/v1", "LLM_MODELS": "gpt-4o-mini"}
    response = api.post(BULK, {"urls": urls(1), "model_name": "gpt-4o-mini"}, format="json")
    assert response.status_code == 202
    assert TaskInfo.objects.get().params["model_name"] == "gpt-4o-mini"


@pytest.mark.parametrize("path", [BULK, "/api/background-tasks/auto-ingest", "/api/background-tasks/keyword-check"])
def test_workload_endpoints_need_a_login(path):
    assert APIClient().post(path, {}, format="json").status_code in (401, 403)
    assert not TaskInfo.objects.exists()


def test_auto_ingest_starts_once_and_a_second_start_is_a_409_with_the_running_id(staff_api, staff_user,
                                                                                 django_user_model):
    other_staff = django_user_model.objects.create_user("staff2", password="x", is_staff=True)
    other_api = APIClient()
    other_api.force_authenticate(other_staff)
    first = staff_api.post("/api/background-tasks/auto-ingest")
    assert first.status_code == 202
    task_id = first.json()["task_id"]
    assert TaskInfo.objects.get(pk=task_id).owner == staff_user

    second = other_api.post("/api/background-tasks/auto-ingest/")
    assert second.status_code == 409
    assert second.json() == {"detail": "Auto-ingest is already running.", "task_id": task_id}
    assert TaskInfo.objects.filter(kind="auto_ingest").count() == 1

    TaskInfo.objects.filter(pk=task_id).update(status=Status.RUNNING)
    assert other_api.post("/api/background-tasks/auto-ingest").status_code == 409
    TaskInfo.objects.filter(pk=task_id).update(status=Status.FAILED)
    assert other_api.post("/api/background-tasks/auto-ingest").status_code == 202


def test_keyword_check_of_an_own_group(api, user):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar"], owner=user)
    response = api.post("/api/background-tasks/keyword-check", {"group_id": group.pk}, format="json")
    assert response.status_code == 202
    task = TaskInfo.objects.get(pk=response.json()["task_id"])
    assert task.kind == "keyword_check" and task.params == {"group_id": group.pk} and task.owner == user


def test_keyword_check_of_someone_elses_or_a_missing_group_is_a_404(api, other_user):
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["solar"], owner=other_user)
    for group_id in (theirs.pk, theirs.pk + 100):
        response = api.post("/api/background-tasks/keyword-check", {"group_id": group_id}, format="json")
        assert response.status_code == 404
    assert not TaskInfo.objects.exists()


def test_staff_may_check_any_group_and_all_groups(staff_api, other_user):
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["solar"], owner=other_user)
    one = staff_api.post("/api/background-tasks/keyword-check", {"group_id": theirs.pk}, format="json")
    assert one.status_code == 202
    everything = staff_api.post("/api/background-tasks/keyword-check", {}, format="json")
    assert everything.status_code == 202
    assert TaskInfo.objects.get(pk=everything.json()["task_id"]).params == {"group_id": None}


def test_without_a_group_a_user_checks_only_their_own_groups(api, user):
    response = api.post("/api/background-tasks/keyword-check", format="json")
    assert response.status_code == 202
    assert TaskInfo.objects.get().params == {"group_id": None, "owner_id": user.pk}


@pytest.mark.parametrize("group_id", ["abc", 0, -3, [1]])
def test_a_malformed_group_id_is_a_400(api, group_id):
    response = api.post("/api/background-tasks/keyword-check", {"group_id": group_id}, format="json")
    assert response.status_code == 400 and "group_id" in response.json()


def test_admin_edits_the_one_auto_ingest_settings_row_and_lists_the_workload_models(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="root-password"))
    listing = client.get("/admin/articles/autoingestconfig/")
    assert listing.status_code == 302 and listing["Location"].endswith("/admin/articles/autoingestconfig/1/change/")
    assert client.get(listing["Location"]).status_code == 200
    for model in ("feedsource", "keywordgroup", "keywordalert", "keywordcheck"):
        assert client.get(f"/admin/articles/{model}/").status_code == 200
        assert client.get(f"/admin/articles/{model}/add/").status_code == 200


def test_the_default_model_comes_from_the_settings(api, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "LLM_BASE_URL": "http://llm.internal/v1", "LLM_MODELS": "house-model",
                          "ANALYSIS_MODEL": "house-model"}
    assert api.post(BULK, {"urls": urls(1)}, format="json").status_code == 202
    assert TaskInfo.objects.get().params["model_name"] == "house-model"
