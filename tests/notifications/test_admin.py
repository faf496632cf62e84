"""The notification admin: list, filters, search, actions, the system-wide form, receipts."""

import pytest

from notifications import queries, services
from notifications.models import Notification, NotificationReceipt

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-password")
    client.force_login(admin)
    return client


def test_changelist_shows_user_or_everyone(admin_client, user, notify):
    notify(user, "for alice")
    notify(None, "for all")
    html = admin_client.get(CHANGELIST).content.decode()
    assert "for alice" in html and "for all" in html
    assert ">alice<" in html and ">everyone<" in html
    assert "Send a system-wide notice" in html


@pytest.mark.parametrize("query, shown, hidden", [
    ("system_wide=yes", "for all", "for alice"),
    ("system_wide=no", "for alice", "for all"),
    ("type__exact=task_failed", "for alice", "for all"),
    ("q=alice", "for alice", "for all"),
    ("read__exact=0", "for all", "for alice"),
])
def test_filters_and_search(admin_client, user, notify, query, shown, hidden):
    mine = notify(user, "for alice", type="task_failed")
    services.mark_notification_as_read(mine, user)
    notify(None, "for all")
    html = admin_client.get(f"{CHANGELIST}?{query}").content.decode()
    assert shown in html and hidden not in html


def test_mark_unread_and_read_actions_skip_system_wide(admin_client, user, notify):
    mine = notify(user)
    notice = notify(None)
    services.mark_notification_as_read(mine, user)
    response = admin_client.post(CHANGELIST, {"action": "mark_unread", "_selected_action": [mine, notice]},
                                 follow=True)
    assert "Skipped 1 system-wide" in response.content.decode()
    assert Notification.objects.get(pk=mine).read is False
    admin_client.post(CHANGELIST, {"action": "mark_read", "_selected_action": [mine]})
    assert Notification.objects.get(pk=mine).read is True
    assert queries.get_unread_count(user) == 1  # the notice is still unread for alice


def test_delete_action(admin_client, user, notify):
    mine = notify(user)
    notice = notify(None)
    services.mark_notification_as_read(notice, user)
    admin_client.post(CHANGELIST, {"action": "delete_notifications", "_selected_action": [mine, notice]})
    assert Notification.objects.count() == 0
    assert NotificationReceipt.objects.count() == 0


def test_send_system_wide_notice_form(admin_client, user, newcomer):
    url = f"{CHANGELIST}send-notice/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"type": "system", "title": "Maintenance", "message": "Tonight",
                                       "link": "javascript:alert(1)"})
    assert response.status_code == 200 and Notification.objects.count() == 0  # bad link refused
    response = admin_client.post(url, {"type": "system", "title": "Maintenance", "message": "Tonight",
                                       "link": "/tasks/"})
    assert response.status_code == 302
    notice = Notification.objects.get()
    assert notice.user is None and notice.title == "Maintenance"
    assert queries.get_unread_count(user) == queries.get_unread_count(newcomer) == 1


def test_send_notice_needs_staff(client, user):
    client.force_login(user)
    response = client.get(f"{CHANGELIST}send-notice/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_add_form_creates_through_the_use_case(admin_client, user):
    response = admin_client.post(f"{CHANGELIST}add/", {"user": user.pk, "type": "system", "title": "Hello",
                                                       "message": "x", "link": ""})
    assert response.status_code == 302
    assert Notification.objects.get().user == user


def test_receipts_are_visible_from_the_notification(admin_client, user, other_user, notify):
    notice = notify(None)
    services.mark_notification_as_read(notice, user)
    services.delete_notification(notice, other_user)
    html = admin_client.get(f"{CHANGELIST}{notice}/change/").content.decode()
    assert "Receipts" in html
    assert "alice" in html and "bob" in html
