"""Shared fixtures for browser tests: Debian's Chromium driven by Playwright, a running site
(daphne + qcluster on the test database) and a page logged in through the login form.

Reuse them from any tests/browser/ module:

    pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

    def test_something(logged_in_page, site):
        logged_in_page.goto("/tasks/")

Mind: while Playwright runs, the test process cannot push to the channel layer (its
sync API holds an event loop on this thread, which async_to_sync refuses; the publisher
logs a warning). Changes a page should see live must come from the server processes:
the REST API (e.g. httpx with a token), the cluster running a job, or a cancel click.

Playwright's own browser download cannot work here (`playwright install` is never run):
the browser is the system's /usr/bin/chromium (`apt-get install chromium`; .ci/run does it).
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.processes import BASE_DIR, Daphne, Qcluster

CHROMIUM = os.environ.get("STATUSMSG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
SCREENSHOT_DIR = BASE_DIR / "var" / "test-logs" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module.

    Module scope, not session: Playwright's sync API keeps its own event loop on this
    thread while it runs, which must be gone before any asyncio test of another module.
    """
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set STATUSMSG_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop on this thread, so Django's async-safety
    # check would refuse every ORM call the test makes. The test's own calls are plain
    # synchronous code, so they may go ahead; the servers must not inherit this (see
    # _without_async_unsafe).
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


def _without_async_unsafe(server):
    server.env.pop(ASYNC_UNSAFE, None)
    return server


@pytest.fixture
def daphne(transactional_db):
    """A real daphne process on the test database (Django's async-safety check left on)."""
    server = _without_async_unsafe(Daphne()).start()
    yield server
    server.stop()


@pytest.fixture
def qcluster(transactional_db):
    """A real django-q2 cluster on the test database."""
    cluster = _without_async_unsafe(Qcluster()).start()
    yield cluster
    cluster.stop()


def restart_daphne(server: Daphne) -> Daphne:
    """Stop server and start a new daphne on the same port (pages reconnect to it)."""
    server.stop()
    return _without_async_unsafe(Daphne(port=server.port)).start()


@pytest.fixture
def site(daphne, qcluster) -> Daphne:
    """The whole system on the test database: a daphne process and a django-q2 cluster."""
    return daphne


@pytest.fixture
def page(browser, daphne):
    """A fresh browser page whose relative URLs go to the test daphne; fails on JS errors."""
    context = browser.new_context(base_url=daphne.http_url, viewport={"width": 1200, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def log_in(page, username: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/tasks/")
    assert urlparse(page.url).path == "/accounts/login/", page.url
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path == "/tasks/")


def set_password(account, password: str) -> None:
    """Give account a password that the server processes can check.

    The tests hash with MD5 (fast), which the servers' settings do not accept; PBKDF2
    with few iterations is accepted (the count travels in the hash) and still quick.
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    account.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)
    account.save(update_fields=["password"])


@pytest.fixture
def logged_in_page(page, user):
    """A page logged in as `user` (alice) through the login form, showing /tasks/."""
    set_password(user, "alice-password")
    log_in(page, user.get_username(), "alice-password")
    return page


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/test-logs/screenshots/ and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
