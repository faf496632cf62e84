"""The bell on every page (count rendered server-side) and the /notifications/ inbox page."""

import pytest

pytestmark = pytest.mark.django_db


def test_inbox_needs_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_inbox_renders_with_the_bell_count_and_a_csrf_token(client, user, other_user, notify):
    notify(user)
    notify(None)
    notify(other_user)
    client.force_login(user)
    response = client.get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span id="unread-count" class="badge" aria-live="polite">2</span>' in html
    assert "js/bell.js" in html
    assert "csrfmiddlewaretoken" in html


def test_bell_is_empty_at_zero(client, user):
    client.force_login(user)
    html = client.get("/notifications/").content.decode()
    assert '<span id="unread-count" class="badge" aria-live="polite"></span>' in html


def test_bell_count_is_on_other_pages_too(client, user, notify):
    notify(user)
    client.force_login(user)
    html = client.get("/accounts/login/").content.decode()
    assert '<span id="unread-count" class="badge" aria-live="polite">1</span>' in html


def test_inbox_refuses_post(client, user):
    client.force_login(user)
    assert client.post("/notifications/").status_code in (403, 405)
