"""REST API of /api/notifications: paths, ownership (IDOR), validation, methods, CSRF, staff."""

import pytest
from rest_framework.test import APIClient

from notifications import services
from notifications.models import Notification, NotificationReceipt

pytestmark = pytest.mark.django_db

BASE = "/api/notifications"


def both(path):
    """The path without and with its trailing slash: both must answer, neither redirects."""
    return [f"{BASE}{path}", f"{BASE}{path}/"]


@pytest.mark.parametrize("slash", ["", "/"])
def test_list_returns_own_and_system_wide_with_count(api, user, other_user, notify, slash):
    mine = notify(user, "mine", link="/tasks/1/")
    notify(other_user, "theirs")
    notice = notify(None, "everyone")
    response = api.get(f"{BASE}{slash}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["notifications"]] == [notice, mine]
    first = body["notifications"][1]
    assert first["title"] == "mine" and first["read"] is False and first["link"] == "/tasks/1/"
    assert body["notifications"][0]["system_wide"] is True


def test_list_unread_only_and_limit(api, user, notify):
    ids = [notify(user, f"n{n}") for n in range(5)]
    services.mark_notification_as_read(ids[4], user)
    body = api.get(BASE, {"unread_only": "true", "limit": 2}).json()
    assert [row["id"] for row in body["notifications"]] == [ids[3], ids[2]]
    assert api.get(BASE, {"unread_only": "", "limit": ""}).json()["count"] == 5


@pytest.mark.parametrize("limit", ["0", "201", "-5", "abc", "1.5"])
def test_list_limit_outside_1_to_200_is_a_400(api, limit):
    response = api.get(BASE, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


@pytest.mark.parametrize("limit", ["1", "200"])
def test_list_limit_bounds_are_accepted(api, limit):
    assert api.get(BASE, {"limit": limit}).status_code == 200


@pytest.mark.parametrize("url", both("/unread-count"))
def test_unread_count(api, user, notify, url):
    notify(user)
    notify(None)
    assert api.get(url).json() == {"count": 2}


@pytest.mark.parametrize("slash", ["", "/"])
def test_mark_read_own(api, user, notify, slash):
    mine = notify(user)
    response = api.post(f"{BASE}/{mine}/mark-read{slash}")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert Notification.objects.get(pk=mine).read is True


def test_mark_read_system_wide_is_for_the_caller_only(api, other_api, user, other_user, notify):
    notice = notify(None)
    assert api.post(f"{BASE}/{notice}/mark-read").status_code == 200
    assert api.get(f"{BASE}/unread-count").json() == {"count": 0}
    assert other_api.get(f"{BASE}/unread-count").json() == {"count": 1}
    assert other_api.get(BASE).json()["notifications"][0]["read"] is False


# --- ownership: user B on user A's ids ---------------------------------------------------


def test_idor_mark_read_of_someone_elses_is_404_and_unchanged(other_api, user, notify):
    mine = notify(user)
    for url in (f"{BASE}/{mine}/mark-read", f"{BASE}/{mine}/mark-read/"):
        response = other_api.post(url)
        assert response.status_code == 404
    assert Notification.objects.get(pk=mine).read is False


def test_idor_delete_of_someone_elses_is_404_and_row_unchanged(other_api, user, notify):
    mine = notify(user)
    services.mark_notification_as_read(mine, user)
    for url in (f"{BASE}/{mine}", f"{BASE}/{mine}/"):
        assert other_api.delete(url).status_code == 404
    row = Notification.objects.get(pk=mine)
    assert row.read is True and row.user == user


def test_idor_list_and_count_never_show_someone_elses(other_api, user, notify):
    notify(user, "secret")
    assert other_api.get(BASE).json() == {"notifications": [], "count": 0}
    assert other_api.get(f"{BASE}/unread-count").json() == {"count": 0}


def test_idor_mark_all_and_delete_read_leave_someone_elses_rows(other_api, api, user, other_user, notify):
    mine_unread = notify(user)
    mine_read = notify(user)
    services.mark_notification_as_read(mine_read, user)
    notify(other_user)
    assert other_api.post(f"{BASE}/mark-all-read").json() == {"count": 1}
    assert other_api.delete(f"{BASE}/read").json() == {"count": 1}
    assert Notification.objects.get(pk=mine_unread).read is False
    assert Notification.objects.filter(pk=mine_read).exists()
    assert api.get(f"{BASE}/unread-count").json() == {"count": 1}


@pytest.mark.parametrize("bad_id", ["999999", "abc", "-1", "1e3"])
def test_unknown_or_malformed_id_is_404(api, bad_id):
    assert api.post(f"{BASE}/{bad_id}/mark-read").status_code == 404
    assert api.delete(f"{BASE}/{bad_id}").status_code == 404


def test_delete_own_then_again_is_404(api, user, notify):
    mine = notify(user)
    assert api.delete(f"{BASE}/{mine}").json() == {"success": True}
    assert not Notification.objects.filter(pk=mine).exists()
    assert api.delete(f"{BASE}/{mine}/").status_code == 404


def test_delete_of_system_wide_hides_it_for_the_caller_only(api, other_api, user, other_user, notify):
    notice = notify(None)
    assert api.delete(f"{BASE}/{notice}").status_code == 200
    assert api.get(BASE).json()["count"] == 0
    assert other_api.get(BASE).json()["count"] == 1
    assert Notification.objects.filter(pk=notice).exists()


@pytest.mark.parametrize("slash", ["", "/"])
def test_mark_all_read_and_delete_read(api, user, notify, slash):
    notify(user)
    notify(None)
    assert api.post(f"{BASE}/mark-all-read{slash}").json() == {"count": 2}
    assert api.delete(f"{BASE}/read{slash}").json() == {"count": 2}
    assert api.get(BASE).json()["count"] == 0
    assert NotificationReceipt.objects.get(user=user).hidden_at is not None


# --- methods, auth, CSRF ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/1/mark-read", "/1/mark-read/", "/mark-all-read", "/mark-all-read/",
                                  "/1", "/1/", "/read", "/read/", "/create", "/create/"])
def test_get_on_a_mutation_is_405(staff_api, staff_user, notify, path):
    notify(staff_user)
    response = staff_api.get(f"{BASE}{path}")
    assert response.status_code == 405
    assert Notification.objects.get().read is False


@pytest.mark.parametrize("method, path", [("get", ""), ("get", "/unread-count"), ("post", "/1/mark-read"),
                                          ("post", "/mark-all-read"), ("delete", "/1"), ("delete", "/read"),
                                          ("post", "/create")])
def test_login_required_everywhere(db, method, path):
    response = getattr(APIClient(), method)(f"{BASE}{path}")
    assert response.status_code in (401, 403)


def test_csrf_is_enforced_for_session_auth(user, notify):
    mine = notify(user)
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password="alice-password")
    assert client.get(BASE).status_code == 200  # safe methods need no token
    for method, path in [("post", f"/{mine}/mark-read"), ("post", "/mark-all-read"),
                         ("delete", f"/{mine}"), ("delete", "/read")]:
        response = getattr(client, method)(f"{BASE}{path}")
        assert response.status_code == 403, path
        assert "CSRF" in response.json()["detail"]
    assert Notification.objects.get(pk=mine).read is False
    # With the token from the cookie, the same request goes through.
    client.get("/notifications/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"{BASE}/{mine}/mark-read", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert Notification.objects.get(pk=mine).read is True


# --- create (staff only) ------------------------------------------------------------------


def test_create_by_staff_for_a_user_and_for_everyone(staff_api, user):
    response = staff_api.post(f"{BASE}/create", {"username": "alice", "type": "system", "title": "Hi",
                                                 "message": "Body", "link": "/tasks/"}, format="json")
    assert response.status_code == 201
    created = Notification.objects.get(pk=response.json()["notification_id"])
    assert created.user == user and created.link == "/tasks/"
    response = staff_api.post(f"{BASE}/create/", {"username": None, "type": "system", "title": "All",
                                                  "message": "Everyone"}, format="json")
    assert response.status_code == 201
    assert Notification.objects.get(pk=response.json()["notification_id"]).user is None


def test_create_by_non_staff_is_403(api, user):
    response = api.post(f"{BASE}/create", {"username": "alice", "type": "system", "title": "Hi",
                                           "message": "x"}, format="json")
    assert response.status_code == 403
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("body, field", [
    ({"username": "nobody", "type": "system", "title": "Hi", "message": "x"}, "username"),
    ({"username": None, "type": "system", "title": "", "message": "x"}, "title"),
    ({"username": None, "type": "system", "title": "x" * 256, "message": "x"}, "title"),
    ({"username": None, "title": "Hi", "message": "x"}, "type"),
    ({"username": None, "type": "no spaces", "title": "Hi", "message": "x"}, "type"),
    ({"username": None, "type": "system", "title": "Hi", "message": "x", "link": "javascript:alert(1)"}, "link"),
    ({"username": None, "type": "system", "title": "Hi", "message": "x", "link": "//evil.example"}, "link"),
])
def test_create_with_a_bad_field_is_400_with_field_errors(staff_api, body, field):
    response = staff_api.post(f"{BASE}/create", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Notification.objects.count() == 0


def test_create_with_a_non_object_body_is_400(staff_api):
    response = staff_api.post(f"{BASE}/create", [1, 2], format="json")
    assert response.status_code == 400
