"""The bell and the inbox in Chromium, against a real daphne on PostgreSQL and Redis.

A notification created in this process travels: commit -> publisher -> Redis -> daphne ->
the page's socket -> the badge. Then the inbox marks read and deletes through the REST API.
"""

import pytest

from notifications import queries, services
from notifications.models import Notification

from .conftest import restart_daphne, screenshot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def inbox_page(logged_in_page):
    """A page logged in as alice through the login form, showing /notifications/."""
    logged_in_page.goto("/notifications/")
    return logged_in_page


def badge(page) -> str:
    return page.inner_text("#unread-count")


def wait_for_badge(page, text: str) -> None:
    page.wait_for_function("text => document.getElementById('unread-count').textContent === text", arg=text)


def test_bell_counts_live_and_the_inbox_marks_and_deletes(inbox_page, user, other_user):
    page = inbox_page
    services.create_notification(user, "system", "Before the page", "old news")
    page.reload()
    assert badge(page) == "1"  # rendered by the server before the socket connects
    page.wait_for_selector("#notification-bell[data-live=true]")
    page.wait_for_selector("#notification-list li >> text=Before the page")

    # A new notification for alice arrives live: badge and inbox update without a reload.
    new_id = services.create_notification(user, "task_complete", "Bulk save completed", "saved: 3", "/tasks/1/")
    wait_for_badge(page, "2")
    page.wait_for_selector("#notification-list li >> text=Bulk save completed")
    # Someone else's notification changes nothing; a system-wide one counts for alice too.
    services.create_notification(other_user, "system", "For bob", "x")
    services.create_notification(None, "system", "Maintenance tonight", "x")
    wait_for_badge(page, "3")
    assert page.locator("#notification-list li >> text=For bob").count() == 0

    # Mark one read from the inbox (a POST with the CSRF token).
    page.click(f"#notification-list li[data-id='{new_id}'] button[data-action=mark-read]")
    wait_for_badge(page, "2")
    assert Notification.objects.get(pk=new_id).read is True
    page.wait_for_selector(f"#notification-list li.read[data-id='{new_id}']")
    screenshot(page, "notifications-inbox")

    # A second tab sees the first tab's change live.
    other_tab = page.context.new_page()
    other_tab.goto("/notifications/")
    other_tab.wait_for_selector("#notification-bell[data-live=true]")
    page.click("#mark-all-read")
    wait_for_badge(page, "")
    wait_for_badge(other_tab, "")
    assert queries.get_unread_count(user) == 0
    assert queries.get_unread_count(other_user) == 2  # bob's own and the system-wide notice

    page.click("#delete-read")
    page.wait_for_selector("#inbox-empty:not([hidden])")
    assert Notification.objects.filter(user=user).count() == 0
    assert Notification.objects.filter(user__isnull=True).count() == 1  # hidden for alice only
    other_tab.close()


def test_bell_reconnects_after_the_server_restarts(inbox_page, daphne, user):
    page = inbox_page
    page.wait_for_selector("#notification-bell[data-live=true]")
    daphne.stop()
    page.wait_for_selector("#notification-bell[data-live=false]")
    restarted = restart_daphne(daphne)
    try:
        page.wait_for_selector("#notification-bell[data-live=true]", timeout=20_000)
        services.create_notification(user, "system", "After restart", "x")
        wait_for_badge(page, "1")
    finally:
        restarted.stop()
