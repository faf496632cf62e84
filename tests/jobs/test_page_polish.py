"""What the task pages say about time (the timing words, local <time> elements), the bell, the favicon,
the 404 page, and the browsable API's bulk-save form."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.serializers import BULK_SAVE_EXAMPLE
from jobs.models import Status, TaskInfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def timing_on(html: str) -> str:
    return re.search(r'data-field="timing"[^>]*>([^<]*)<', html).group(1)


def test_running_task_page_says_the_time_left_and_the_rate(browser, make_task):
    task_id = make_task(total_items=240)
    TaskInfo.objects.filter(pk=task_id).update(status=Status.RUNNING, processed_items=60,
                                               started_at=timezone.now() - timedelta(seconds=30))
    html = browser.get(f"/tasks/{task_id}/").text
    assert timing_on(html) == "about 2 min left · 2.0 items/s"


def test_pending_task_page_says_its_place_in_line(browser, make_task):
    first, second, third = make_task(), make_task(), make_task()
    for age, task_id in zip((30, 20, 10), (first, second, third), strict=True):
        TaskInfo.objects.filter(pk=task_id).update(created_at=timezone.now() - timedelta(seconds=age))
    assert timing_on(browser.get(f"/tasks/{third}/").text) == "3rd in line"


def test_task_times_are_time_elements_with_an_iso_datetime(browser, make_task):
    task_id = make_task()
    task = TaskInfo.objects.get(pk=task_id)
    for html in (browser.get(f"/tasks/{task_id}/").text, browser.get("/tasks/").text):
        match = re.search(r'<time data-field="created_at" datetime="([^"]+)"', html)
        assert match and match.group(1).startswith(task.created_at.strftime("%Y-%m-%dT"))
    assert "js/local-time.js" in html


def test_pages_link_the_svg_favicon_and_draw_the_bell_without_an_emoji(browser):
    html = browser.get("/tasks/").text
    assert re.search(r'<link rel="icon" href="[^"]*favicon[^"]*\.svg"', html)
    bell = re.search(r'<a href="/notifications/" id="notification-bell".*?</a>', html, re.DOTALL).group(0)
    assert "<svg" in bell and "&#128276;" not in bell and "\U0001F514" not in bell


def test_favicon_is_an_svg_among_the_static_files():
    from pathlib import Path

    from django.contrib.staticfiles import finders

    path = finders.find("img/favicon.svg")
    assert path and Path(path).read_text().startswith("<svg")


def test_unknown_task_page_is_the_sites_own_404_with_a_way_back(browser, settings):
    settings.DEBUG = False
    response = browser.get("/tasks/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "Page not found" in response.text and 'href="/tasks/"' in response.text


def test_browsable_bulk_save_form_starts_with_a_working_json_body(browser):
    html = browser.get("/api/background-tasks/bulk-save", HTTP_ACCEPT="text/html").text
    assert "Lists are not currently supported" not in html
    assert "https://example.com/news/1" in html


def test_the_example_body_of_the_bulk_save_form_is_accepted(api):
    response = api.post("/api/background-tasks/bulk-save", {"articles": BULK_SAVE_EXAMPLE, "topic": ""},
                        format="json")
    assert response.status_code == 202, response.content


def test_unknown_task_page_is_the_sites_own_404_even_under_debug(browser, settings):
    settings.DEBUG = True  # make run's development mode
    response = browser.get("/tasks/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "no such task" in response.text and 'href="/tasks/"' in response.text
    assert "technical_404" not in response.text and "Django tried these URL patterns" not in response.text
