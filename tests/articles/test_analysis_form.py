"""/analysis/new: start a bulk analysis from the browser, validated like the API, errors beside the fields."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from articles.models import AutoIngestConfig
from jobs.models import Status, TaskInfo

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.articles.urls")]

NEW = "/analysis/new"


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


def form(**fields) -> dict:
    return {"urls": "", "topic": "", "summary_type": "standard", "model_name": "local", **fields}


def test_the_form_offers_the_configured_models_and_summary_types(browser, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "LLM_BASE_URL": "http://llm.example/v1", "LLM_MODELS": "gpt-x"}
    page = browser.get(NEW).content.decode()
    assert '<option value="local" selected>' in page and '<option value="gpt-x">' in page
    assert '<option value="brief">' in page and 'name="urls_file"' in page and 'name="force"' in page
    assert "Run auto-ingest now" not in page  # staff only
    assert "<script>" not in page


def test_a_valid_form_starts_the_analysis_and_goes_to_its_task_page(browser, user):
    response = browser.post(NEW, form(urls="https://a.example/1\n\n  https://a.example/2  \n", topic="solar",
                                      summary_type="brief", force="on"))
    task = TaskInfo.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert (task.kind, task.owner, task.status, task.total_items) == ("bulk_analysis", user, Status.PENDING, 2)
    assert task.name == "Bulk analysis of 2 URLs"
    assert task.params == {"urls": ["https://a.example/1", "https://a.example/2"], "topic": "solar",
                           "summary_type": "brief", "model_name": "local", "force": True}


def test_urls_from_an_uploaded_file_join_the_typed_ones(browser):
    upload = SimpleUploadedFile("urls.txt", b"\xef\xbb\xbfhttps://a.example/2\r\nhttps://a.example/3\r\n",
                                content_type="text/plain")
    response = browser.post(NEW, {**form(urls="https://a.example/1"), "urls_file": upload})
    assert response.status_code == 302
    assert TaskInfo.objects.get().params["urls"] == [f"https://a.example/{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({}, "urls", "Enter at least one URL, or upload a file of them."),
    ({"urls": "https://a.example/1\nftp://a.example/2"}, "urls",
     "Line 2 (ftp://a.example/2): Enter a valid http or https URL."),
    ({"urls": "https://a.example/1\nhttps://a.example/1"}, "urls",
     "Line 2 (https://a.example/1): Duplicate of line 1."),
    ({"urls": "https://a.example/1", "model_name": "gpt-9"}, "model_name",
     "Select a valid choice. gpt-9 is not one of the available choices."),
    ({"urls": "https://a.example/1", "summary_type": "epic"}, "summary_type",
     "Select a valid choice. epic is not one of the available choices."),
])
def test_bad_input_shows_the_error_beside_its_field_and_starts_nothing(browser, fields, field, message):
    response = browser.post(NEW, form(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert f'id="errors-{field}"' in response.content.decode()
    assert not TaskInfo.objects.exists()


def test_more_urls_than_the_api_allows_is_refused_with_the_api_s_words(browser, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "MAX_BULK_ITEMS": 2}
    response = browser.post(NEW, form(urls="\n".join(f"https://a.example/{n}" for n in range(3))))
    assert response.context["form"].errors["urls"] == ["At most 2 urls per request; got 3."]
    assert not TaskInfo.objects.exists()


def test_a_file_that_is_not_text_is_refused(browser):
    upload = SimpleUploadedFile("urls.txt", b"\xff\xfe\x00bad", content_type="text/plain")
    response = browser.post(NEW, {**form(), "urls_file": upload})
    assert response.context["form"].errors["urls_file"] == [
        "The file is not UTF-8 text; upload a plain text file of URLs."]


def test_the_form_needs_a_login(client):
    response = client.get(NEW)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- auto-ingest, for staff


def test_staff_see_the_run_button_and_the_settings_link(staff_browser):
    page = staff_browser.get(NEW).content.decode()
    assert "Run auto-ingest now" in page and 'href="/analysis/auto-ingest"' in page


def test_run_auto_ingest_now_starts_it_and_a_second_click_finds_the_running_one(staff_browser, staff_user):
    first = staff_browser.post("/analysis/auto-ingest/run")
    task = TaskInfo.objects.get(kind="auto_ingest")
    assert first.status_code == 302 and first["Location"] == f"/tasks/{task.pk}/" and task.owner == staff_user
    second = staff_browser.post("/analysis/auto-ingest/run")
    assert second["Location"] == f"/tasks/{task.pk}/"
    assert TaskInfo.objects.filter(kind="auto_ingest").count() == 1


def test_staff_change_the_auto_ingest_settings_on_their_page(staff_browser):
    page = staff_browser.get("/analysis/auto-ingest").content.decode()
    assert 'name="min_relevance_threshold"' in page and "No feeds yet." in page
    response = staff_browser.post("/analysis/auto-ingest", {
        "enabled": "on", "quality_control_enabled": "on", "min_relevance_threshold": "0.5",
        "min_content_length": "100", "batch_size": "5", "max_concurrent_batches": "2"})
    assert response.status_code == 302
    config = AutoIngestConfig.load()
    assert (config.enabled, config.min_relevance_threshold, config.batch_size) == (True, 0.5, 5)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("min_relevance_threshold", "1.5", "Enter a number from 0 to 1."),
    ("batch_size", "0", "Enter 1 or more."),
])
def test_bad_settings_are_refused_beside_their_field(staff_browser, field, value, message):
    data = {"min_relevance_threshold": "0.3", "min_content_length": "300", "batch_size": "10",
            "max_concurrent_batches": "2", field: value}
    response = staff_browser.post("/analysis/auto-ingest", data)
    assert response.status_code == 400 and response.context["form"].errors[field] == [message]


def test_non_staff_may_neither_run_auto_ingest_nor_see_its_settings(browser):
    assert browser.get("/analysis/auto-ingest").status_code == 403
    assert browser.post("/analysis/auto-ingest/run").status_code == 403
    assert not TaskInfo.objects.exists()
