"""The bell and the inbox in Chromium, against a real daphne on PostgreSQL and Redis.

A notification created in this process travels: commit -> publisher -> Redis -> daphne ->
the page's socket -> the badge. Then the inbox marks read and deletes through the REST API.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from notifications import services
from notifications.models import Notification
from tests.processes import BASE_DIR, Daphne

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("STATUSMSG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
SCREENSHOTS = BASE_DIR / "var" / "test-logs" / "screenshots"


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright (Playwright's own browser download is never used)."""
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set STATUSMSG_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, which makes Django refuse
    # the test's own (plain synchronous) ORM calls; allow them here, never in the servers.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def site_server(transactional_db):
    server = Daphne()
    server.env.pop(ASYNC_UNSAFE, None)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox_page(chromium, site_server, user):
    """A page logged in as alice through the login form, showing /notifications/."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # The tests hash with MD5, which the server's settings do not accept; a PBKDF2 hash
    # with few iterations is accepted (the count travels in the hash) and still quick.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode("alice-password", hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])

    context = chromium.new_context(base_url=site_server.http_url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/?next=/notifications/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path == "/notifications/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "notifications-inbox.png"), full_page=True)

    # A second tab sees the first tab's change live.
    other_tab = page.context.new_page()
    other_tab.goto("/notifications/")
    other_tab.wait_for_selector("#notification-bell[data-live=true]")
    page.click("#mark-all-read")
    wait_for_badge(page, "")
    wait_for_badge(other_tab, "")
    assert services.get_unread_count(user) == 0
    assert services.get_unread_count(other_user) == 2  # bob's own and the system-wide notice

    page.click("#delete-read")
    page.wait_for_selector("#inbox-empty:not([hidden])")
    assert Notification.objects.filter(user=user).count() == 0
    assert Notification.objects.filter(user__isnull=True).count() == 1  # hidden for alice only
    other_tab.close()


def test_bell_reconnects_after_the_server_restarts(inbox_page, site_server, user):
    page = inbox_page
    page.wait_for_selector("#notification-bell[data-live=true]")
    site_server.stop()
    page.wait_for_selector("#notification-bell[data-live=false]")
    restarted = Daphne(port=site_server.port)
    restarted.env.pop(ASYNC_UNSAFE, None)
    restarted.start()
    try:
        page.wait_for_selector("#notification-bell[data-live=true]", timeout=20_000)
        services.create_notification(user, "system", "After restart", "x")
        wait_for_badge(page, "1")
    finally:
        restarted.stop()
