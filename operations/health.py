"""Readiness checks: the database answers, the channel layer round-trips, a django-q2 cluster beats.

Each check returns {"ok": bool, "latency_ms": float, …} and never raises: a load balancer
asks /readyz every few seconds and must get an answer, never an error page. No check
reports a URL, a host or any other setting (the answer is public).
"""

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0  # seconds any one check may take
CLUSTER_BEAT_WITHIN = timedelta(seconds=30)


def _timed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer, not an error
        logger.warning("readiness: database check failed: %s", type(exc).__name__)
        return {"ok": False, "latency_ms": _timed(started), "error": type(exc).__name__}
    return {"ok": True, "latency_ms": _timed(started)}


async def check_channel_layer() -> dict:
    """Send a message to a fresh channel of our own and read it back."""
    started = time.perf_counter()
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "latency_ms": 0.0, "error": "no channel layer configured"}
    channel = None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "readiness.probe"})
            message = await layer.receive(channel)
    except Exception as exc:  # noqa: BLE001 - Redis down or hanging is the answer
        logger.warning("readiness: channel layer check failed: %s", type(exc).__name__)
        return {"ok": False, "latency_ms": _timed(started), "error": type(exc).__name__}
    finally:
        if channel is not None:
            await _forget(layer, channel)
    return {"ok": message.get("type") == "readiness.probe", "latency_ms": _timed(started)}


async def _forget(layer, channel: str) -> None:
    """Drop the probe's channel: a receive cancelled at once is the layer's own way to unsubscribe it.

    Without this every /readyz (load balancers call it every few seconds) would leave a
    subscription in Redis and a queue in this process.
    """
    with contextlib.suppress(TimeoutError, Exception):
        await asyncio.wait_for(layer.receive(channel), 0.01)


def beating_clusters() -> list:
    """Return the stats of the django-q2 clusters whose monitor saved one lately (every half second).

    django-q2 keeps those stats in Django's cache, so processes see each other's only when
    the cache is shared (Redis): with a per-process cache no cluster is ever found. Raises
    what the cache raises when it is down.
    """
    from django_q.status import Stat

    recent = timezone.now() - CLUSTER_BEAT_WITHIN
    return [stat for stat in Stat.get_all() if stat.timestamp and stat.timestamp >= recent]


def check_cluster() -> dict:
    started = time.perf_counter()
    try:
        alive = beating_clusters()
    except Exception as exc:  # noqa: BLE001 - the cache (Redis) may be down
        logger.warning("readiness: cluster check failed: %s", type(exc).__name__)
        return {"ok": False, "latency_ms": _timed(started), "error": type(exc).__name__, "clusters": 0}
    return {"ok": bool(alive), "latency_ms": _timed(started), "clusters": len(alive)}


async def readiness() -> dict:
    """Run every check; status "ok" only when all pass."""
    database, layer, cluster = await asyncio.gather(
        sync_to_async(check_database)(), check_channel_layer(), sync_to_async(check_cluster)()
    )
    checks = {"database": database, "channel_layer": layer, "cluster": cluster}
    return {"status": "ok" if all(check["ok"] for check in checks.values()) else "fail", "checks": checks}
