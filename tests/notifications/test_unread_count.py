"""GET /api/notifications/unread-count, which badges poll: the rule, one statement, its own per-user limit."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from notifications import queries, services
from notifications.models import Notification
from statusmsg.throttling import UserPollRateThrottle

pytestmark = pytest.mark.django_db

URL = "/api/notifications/unread-count"
LIMITED = {"anon": "5/min", "user": "3/min"}
DEAD_REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
              "OPTIONS": {"socket_connect_timeout": 0.2}}


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()


@pytest.fixture
def limited(settings, monkeypatch):
    """Lower the rates to LIMITED and stop the poll limit's clock 10 s into a minute; return the clock."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LIMITED}
    clock = [60_000_010.0]
    monkeypatch.setattr(UserPollRateThrottle, "timer", staticmethod(lambda: clock[0]))
    return clock


def test_the_count_follows_the_unread_rule_for_every_user(user, other_user, notify, django_user_model):
    newcomer = django_user_model.objects.create_user("carol")
    mine_read, _mine_unread = notify(user), notify(user)
    notify(other_user)
    notice_read, notice_hidden, notice_unread = notify(None), notify(None), notify(None)
    services.mark_notification_as_read(mine_read, user)
    services.mark_notification_as_read(notice_read, user)
    services.delete_notification(notice_hidden, user)
    services.mark_notification_as_read(notice_unread, other_user)
    # alice: her unread one and the notice she neither read nor hid; bob: his own and two
    # notices; carol, who joined later: every notice.
    for person, unread in [(user, 2), (other_user, 3), (newcomer, 3)]:
        assert queries.get_unread_count(person) == unread == Notification.objects.unread_for(person).count()


def test_a_poll_sends_one_statement(api, user, notify, django_assert_num_queries):
    notify(user)
    notify(None)
    for _ in range(2):  # the statement is built once; no call sends more than the count
        with django_assert_num_queries(1):
            assert api.get(URL).json() == {"count": 2}


def test_polls_are_limited_per_user_at_the_user_rate(limited, api, other_api):
    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert int(api.get(URL)["Retry-After"]) == 50  # the rest of the minute
    assert other_api.get(URL).status_code == 200
    limited[0] += 50  # the next minute starts afresh
    assert api.get(URL).status_code == 200


def test_polls_leave_the_rest_of_the_api_its_budget(limited, api):
    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api.get("/api/notifications").status_code == 200


def test_anonymous_polls_are_refused_and_throttled_per_address(limited):
    client = APIClient(REMOTE_ADDR="10.2.2.2")
    responses = [client.get(URL) for _ in range(6)]
    assert [response.status_code for response in responses] == [401] * 5 + [429]
    assert responses[0]["WWW-Authenticate"] == "Token"


def test_the_poll_limit_needs_no_cache(limited, settings, api):
    settings.CACHES = {"default": DEAD_REDIS}  # counted in the process: an outage changes nothing
    assert [api.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
