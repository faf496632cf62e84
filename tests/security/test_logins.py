"""Item 3: failed logins are locked out per username and per address; API calls are throttled."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def lockouts_on(settings):
    settings.AXES_ENABLED = True
    cache.clear()  # the throttles' counters


def token_attempt(password, username="alice", address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"username": username, "password": password}, format="json")


def test_ten_failed_token_logins_lock_the_username_with_a_429_and_retry_after(user):
    codes = [token_attempt("wrong").status_code for _ in range(10)]
    assert codes[:9] == [401] * 9 and codes[9] == 429
    locked = token_attempt("alice-password")  # even the right password, while locked
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed login attempts" in locked.json()["detail"]
    # Per username: the same name from another address is locked too.
    assert token_attempt("alice-password", address="10.0.0.2").status_code == 429


def test_ten_failures_from_one_address_lock_that_address_for_every_username(user, other_user):
    for number in range(10):
        token_attempt("wrong", username=f"guess{number}", address="10.0.0.9")
    assert token_attempt("alice-password", address="10.0.0.9").status_code == 429
    assert token_attempt("bob-password", username="bob", address="10.0.0.8").status_code == 200


def test_an_admin_lifts_the_lock_out(user, admin_client):
    for _ in range(10):
        token_attempt("wrong")
    assert token_attempt("alice-password").status_code == 429
    attempt = AccessAttempt.objects.get(username="alice")
    # From the admin (Axes > Access attempts): deleting the attempt lifts it …
    assert admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 302
    assert token_attempt("alice-password").status_code == 200
    # … and so does the command.
    for _ in range(10):
        token_attempt("wrong")
    call_command("axes_reset_username", "alice")
    assert token_attempt("alice-password").status_code == 200


def test_a_success_resets_the_count(user):
    for _ in range(9):
        token_attempt("wrong")
    assert token_attempt("alice-password").status_code == 200
    assert token_attempt("wrong").status_code == 401


def test_the_login_page_is_locked_out_too_with_a_page_of_its_own(user):
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(10):
        client.post(LOGIN, {"username": "alice", "password": "wrong"})
    response = client.post(LOGIN, {"username": "alice", "password": "alice-password"})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert b"Too many failed logins" in response.content and b'href="/accounts/login/"' in response.content


def test_anonymous_api_calls_are_throttled_per_address(settings, db):
    rates = {"anon": "5/min", "user": "1000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient(REMOTE_ADDR="10.1.1.1")
    codes = [client.get("/api/background-tasks/summary").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    throttled = client.get("/api/background-tasks/summary")
    assert int(throttled["Retry-After"]) > 0
    # The token endpoint counts as anonymous, and another address has its own budget.
    assert APIClient(REMOTE_ADDR="10.1.1.1").post(TOKEN, {}, format="json").status_code == 429
    assert APIClient(REMOTE_ADDR="10.1.1.2").get("/api/background-tasks/summary").status_code == 401


def test_authenticated_api_calls_have_a_per_user_rate(settings, api, other_api):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "5/min", "user": "8/min"}}
    codes = [api.get("/api/background-tasks/summary").status_code for _ in range(9)]
    assert codes == [200] * 8 + [429]
    assert other_api.get("/api/background-tasks/summary").status_code == 200


def test_the_default_user_rate_is_generous():
    from django.conf import settings

    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rate) >= {"anon", "user"}


def test_a_cache_outage_lets_requests_through(settings, api):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2}}}
    assert api.get("/api/background-tasks/summary").status_code == 200
