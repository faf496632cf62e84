"""GET /api/notifications: `count` is the total, as the task list's is, and `limit` is refused in the same words."""

import pytest

from notifications import queries, services

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/api/notifications"
TASKS = "/api/background-tasks/tasks"


def test_count_is_the_total_not_the_page_size(api, user, other_user, notify):
    for number in range(5):
        notify(user, f"mine {number}")
    notify(None, "for everyone")
    notify(other_user, "not mine")
    body = api.get(BASE, {"limit": 2}).json()
    assert len(body["notifications"]) == 2
    assert body["count"] == 6


def test_unread_only_count_is_the_unread_total(api, user, notify):
    ids = [notify(user, f"n{number}") for number in range(4)]
    system = notify(None, "for everyone")
    services.mark_notification_as_read(ids[0], user)
    services.mark_notification_as_read(system, user)
    body = api.get(BASE, {"unread_only": "true", "limit": 1}).json()
    assert (len(body["notifications"]), body["count"]) == (1, 3)
    assert body["count"] == queries.get_unread_count(user)


def test_hidden_system_notices_are_not_counted(api, user, notify):
    notify(user, "mine")
    hidden = notify(None, "deleted by me")
    services.delete_notification(hidden, user)
    assert api.get(BASE).json()["count"] == 1


@pytest.mark.parametrize("limit", ["0", "abc", "1.5", "-5", "+5", " 5"])
def test_bad_limit_is_refused_in_the_same_words_on_both_lists(api, limit):
    notifications = api.get(BASE, {"limit": limit})
    tasks = api.get(TASKS, {"limit": limit})
    assert notifications.status_code == tasks.status_code == 400
    assert notifications.json()["limit"] == ["Expected a whole number of at least 1 and at most 200."]
    assert tasks.json()["limit"] == ["Expected a whole number of at least 1 and at most 500."]


def test_limit_over_the_maximum_names_the_maximum(api):
    response = api.get(BASE, {"limit": "201"})
    assert response.status_code == 400
    assert response.json() == {"limit": ["Expected a whole number of at least 1 and at most 200."]}
