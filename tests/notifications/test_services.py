"""The notification use cases: read state per user, ownership, bulk marks, validation."""

import pytest

from notifications import queries, services
from notifications.exceptions import InvalidLimit, InvalidNotification
from notifications.models import Notification, NotificationReceipt

pytestmark = pytest.mark.django_db


def read_states(user):
    return {row.pk: row.read_by_user for row in queries.get_user_notifications(user, limit=200)}


def test_create_accepts_a_user_a_username_or_none(user, notify):
    by_user = notify(user)
    by_name = notify("alice")
    everyone = notify(None)
    assert Notification.objects.get(pk=by_user).user == user
    assert Notification.objects.get(pk=by_name).user == user
    assert Notification.objects.get(pk=everyone).user is None


def test_create_with_unknown_username_is_a_field_error(db):
    with pytest.raises(InvalidNotification) as caught:
        services.create_notification("nobody", "system", "Hi", "Body")
    assert "username" in caught.value.errors
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("link", ["/tasks/1/", "tasks/1/", "https://example.com/x?y=1", "http://example.com"])
def test_create_accepts_relative_and_http_links(user, link):
    pk = services.create_notification(user, "system", "Hi", "Body", link)
    assert Notification.objects.get(pk=pk).link == link


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/x", "data:text/html,hi", "ftp://x/y",
                                  "/a b", "/\\evil.example", "https:no-host", "/" + "x" * 500])
def test_create_refuses_other_links(user, link):
    with pytest.raises(InvalidNotification) as caught:
        services.create_notification(user, "system", "Hi", "Body", link)
    assert list(caught.value.errors) == ["link"]


@pytest.mark.parametrize("field, value", [("title", ""), ("title", "x" * 256), ("type", ""), ("type", "bad type")])
def test_create_refuses_bad_fields(user, field, value):
    fields = {"type": "system", "title": "Hi", "message": "Body"} | {field: value}
    with pytest.raises(InvalidNotification) as caught:
        services.create_notification(user, **fields)
    assert field in caught.value.errors


def test_user_sees_own_and_system_wide_newest_first_but_not_others(user, other_user, notify):
    first = notify(user, "mine")
    notify(other_user, "theirs")
    second = notify(None, "everyone")
    rows = queries.get_user_notifications(user)
    assert [row.pk for row in rows] == [second, first]


def test_limit_cuts_the_merged_page(user, notify):
    ids = [notify(user if n % 2 else None, f"n{n}") for n in range(10)]
    rows = queries.get_user_notifications(user, limit=3)
    assert [row.pk for row in rows] == ids[::-1][:3]


@pytest.mark.parametrize("limit", [0, 201, -1, "10", None, True])
def test_limit_outside_1_to_200_is_refused(user, limit):
    with pytest.raises(InvalidLimit):
        queries.get_user_notifications(user, limit=limit)


def test_system_wide_read_state_is_per_user(user, other_user, notify, django_user_model):
    notice = notify(None)
    assert services.mark_notification_as_read(notice, user) is True
    assert read_states(user)[notice] is True
    assert read_states(other_user)[notice] is False
    [as_alice] = queries.get_user_notifications(user)
    [as_bob] = queries.get_user_notifications(other_user)
    assert (as_alice.read, as_bob.read) == (True, False)
    assert queries.get_unread_count(user) == 0
    assert queries.get_unread_count(other_user) == 1
    late = django_user_model.objects.create_user("dave", password="x")
    assert read_states(late)[notice] is False
    assert queries.get_unread_count(late) == 1
    assert Notification.objects.get(pk=notice).read is False  # the shared flag is untouched


def test_mark_read_of_someone_elses_notification_is_refused_and_changes_nothing(user, other_user, notify):
    theirs = notify(other_user)
    assert services.mark_notification_as_read(theirs, user) is False
    assert services.mark_notification_as_read(999999, user) is False
    assert services.mark_notification_as_read("junk", user) is False
    assert Notification.objects.get(pk=theirs).read is False


def test_mark_read_is_idempotent(user, notify):
    mine = notify(user)
    assert services.mark_notification_as_read(mine, user)
    assert services.mark_notification_as_read(mine, user)
    assert queries.get_unread_count(user) == 0


def test_mark_all_touches_only_the_caller(user, other_user, notify):
    notify(user)
    notify(user)
    theirs = notify(other_user)
    notice = notify(None)
    read_before = notify(None)
    services.mark_notification_as_read(read_before, user)
    assert services.mark_all_notifications_as_read(user) == 3
    assert queries.get_unread_count(user) == 0
    assert queries.get_unread_count(other_user) == 3
    assert Notification.objects.get(pk=theirs).read is False
    assert read_states(other_user)[notice] is False
    assert services.mark_all_notifications_as_read(user) == 0


def test_mark_all_is_a_bulk_statement_not_a_loop(user, notify, django_assert_max_num_queries):
    for n in range(30):
        notify(user if n % 2 else None)
    with django_assert_max_num_queries(6):
        assert services.mark_all_notifications_as_read(user) == 30


def test_delete_own_removes_it_and_someone_elses_is_refused(user, other_user, notify):
    mine = notify(user)
    theirs = notify(other_user)
    assert services.delete_notification(theirs, user) is False
    assert Notification.objects.filter(pk=theirs).exists()
    assert services.delete_notification(mine, user) is True
    assert not Notification.objects.filter(pk=mine).exists()
    assert services.delete_notification(mine, user) is False


def test_delete_of_system_wide_hides_it_for_the_caller_only(user, other_user, notify):
    notice = notify(None)
    assert services.delete_notification(notice, user) is True
    assert notice not in read_states(user)
    assert queries.get_unread_count(user) == 0
    assert notice in read_states(other_user)
    assert services.delete_notification(notice, user) is False
    assert services.mark_notification_as_read(notice, user) is False


def test_delete_read_touches_only_the_callers_read_rows(user, other_user, notify):
    read_mine = notify(user)
    unread_mine = notify(user)
    theirs_read = notify(other_user)
    notice = notify(None)
    services.mark_notification_as_read(read_mine, user)
    services.mark_notification_as_read(theirs_read, other_user)
    services.mark_notification_as_read(notice, user)
    services.mark_notification_as_read(notice, other_user)
    assert services.delete_read_notifications(user) == 2
    assert set(read_states(user)) == {unread_mine}
    assert set(read_states(other_user)) == {theirs_read, notice}
    assert NotificationReceipt.objects.filter(user=other_user, hidden_at__isnull=True).count() == 1


def test_unread_only_lists_only_unread(user, notify):
    read_one = notify(user)
    unread_one = notify(user)
    notice_read = notify(None)
    notice_unread = notify(None)
    services.mark_notification_as_read(read_one, user)
    services.mark_notification_as_read(notice_read, user)
    rows = queries.get_user_notifications(user, unread_only=True)
    assert [row.pk for row in rows] == [notice_unread, unread_one]
    assert all(row.read_by_user is False for row in rows)
