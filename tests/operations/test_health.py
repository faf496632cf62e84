"""/healthz answers without the database; /readyz checks the database, the channel layer and a cluster."""

import pytest
from django.test import Client

from operations import health


class DownLayer:
    """A channel layer whose Redis refuses every connection."""

    def __init__(self, **config):
        pass

    async def new_channel(self):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def anonymous():
    return Client()


def test_healthz_is_ok_without_login_or_database(anonymous):
    # No django_db mark: any query would raise here.
    answer = anonymous.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_fails_with_503_while_no_cluster_beats_and_names_no_secret(anonymous, settings):
    answer = anonymous.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert (body["checks"]["cluster"]["ok"], body["checks"]["cluster"]["clusters"]) == (False, 0)
    assert all(isinstance(check["latency_ms"], float) for check in body["checks"].values())
    text = answer.content.decode()
    for secret in (settings.SECRET_KEY, str(settings.DATABASES["default"]["NAME"]), "redis://", "unix://"):
        assert secret not in text


@pytest.mark.django_db
def test_readyz_is_ok_when_a_cluster_has_beaten(anonymous, monkeypatch):
    monkeypatch.setattr(health, "check_cluster", lambda: {"ok": True, "latency_ms": 0.1, "clusters": 1})
    answer = anonymous.get("/readyz")
    assert (answer.status_code, answer.json()["status"]) == (200, "ok")


@pytest.mark.django_db
def test_readyz_reports_a_broken_channel_layer_instead_of_failing(anonymous, settings, monkeypatch):
    monkeypatch.setattr(health, "check_cluster", lambda: {"ok": True, "latency_ms": 0.1, "clusters": 1})
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.operations.test_health.DownLayer"}}
    answer = anonymous.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["channel_layer"] == {
        "ok": False, "latency_ms": answer.json()["checks"]["channel_layer"]["latency_ms"], "error": "ConnectionError"}


def test_a_cluster_seen_in_the_shared_cache_counts_as_alive(monkeypatch):
    from django.utils import timezone

    class FakeStat:
        timestamp = timezone.now()

    class OldStat:
        timestamp = timezone.now() - 2 * health.CLUSTER_BEAT_WITHIN

    monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda: [FakeStat(), OldStat()]))
    check = health.check_cluster()
    assert (check["ok"], check["clusters"]) == (True, 1)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_readyz_leaves_no_subscription_behind_in_a_long_lived_daphne(daphne, settings):
    """Load balancers poll /readyz: each probe's channel must be unsubscribed again."""
    import httpx
    import redis

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    before = set(client.pubsub_channels(f"{prefix}*"))
    for _ in range(5):
        assert httpx.get(f"{daphne.http_url}/readyz", timeout=10).json()["checks"]["channel_layer"]["ok"] is True
    assert set(client.pubsub_channels(f"{prefix}*")) - before == set()
