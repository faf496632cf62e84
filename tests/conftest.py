"""Shared fixtures: users, API clients, and the gate for tests that need real services."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient


def _services_problem() -> str | None:
    """Return why PostgreSQL or Redis cannot be reached, or None when both answer."""
    import psycopg
    import redis

    try:
        psycopg.connect(settings.TEST_DATABASE_URL.replace("postgres://", "postgresql://"), dbname="postgres",
                        connect_timeout=3).close()
    except Exception as exc:
        return (f"PostgreSQL at {settings.TEST_DATABASE_URL} is unreachable ({exc}); start it, e.g. "
                "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', or set TEST_DATABASE_URL")
    try:
        redis.Redis.from_url(settings.TEST_REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return (f"Redis at {settings.TEST_REDIS_URL} is unreachable ({exc}); start it, e.g. "
                "'redis-server --daemonize yes --port 6379', or set REDIS_URL")
    return None


def pytest_collection_modifyitems(config, items):
    needs_services = [item for item in items if item.get_closest_marker("services")]
    if not needs_services:
        return
    if not settings.USE_REAL_SERVICES:
        reason = "needs real PostgreSQL and Redis: run `make test-services` (STATUSMSG_TEST_SERVICES=1)"
        for item in needs_services:
            item.add_marker(pytest.mark.skip(reason=reason))
        return
    problem = _services_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI=true and the test services are down: {problem}")
    for item in needs_services:
        item.add_marker(pytest.mark.skip(reason=problem))


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-password")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("staff", password="staff-password", is_staff=True)


def _client_for(account) -> APIClient:
    client = APIClient()
    client.force_authenticate(account)
    return client


@pytest.fixture
def api(user):
    return _client_for(user)


@pytest.fixture
def other_api(other_user):
    return _client_for(other_user)


@pytest.fixture
def staff_api(staff_user):
    return _client_for(staff_user)


@pytest.fixture
def qcluster(transactional_db):
    """A real `manage.py qcluster` process on the test database; stopped after the test."""
    from tests.processes import Qcluster

    cluster = Qcluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def daphne(transactional_db):
    """A real daphne process serving statusmsg on a free port; stopped after the test."""
    from tests.processes import Daphne

    server = Daphne().start()
    yield server
    server.stop()


@pytest.fixture
def make_task(user):
    """Create a task row (no worker runs it) and return its id."""
    from jobs import lifecycle

    def make(owner=user, total_items=10, kind="bulk_save", params=None, **extra):
        return lifecycle.create_task(
            name="test task", total_items=total_items, owner=owner, kind=kind, params=params or {}, **extra
        )

    return make


@pytest.fixture
def notify():
    """Create a notification through the use case and return its id."""

    def make(recipient, title="Hello", type="system", message="Body", link=None):
        from notifications import services

        return services.create_notification(recipient, type, title, message, link)

    return make


@pytest.fixture
def newcomer(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password")
