"""API rate limits that share their counters across processes and fail open when the cache is down.

The counters live in the default cache (Redis in production), so N daphne processes enforce one
rate. A Redis outage must not take the API down with it: the request is let through and the
failure logged, as the realtime pushes do.
"""

import logging
import weakref

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _FailOpen:
    def get_rate(self):
        # Read when used, not at import as DRF does: settings changes (tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("throttle skipped scope=%s error=%r", self.scope, exc)
            return True


class AnonRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    """Per client address, for calls without credentials (the token endpoint included)."""


class UserRateThrottle(_FailOpen, throttling.UserRateThrottle):
    """Per user, generous: a script polling a job stays far below it."""


class _FixedWindowCounter(throttling.UserRateThrottle):
    """Count a user's calls in fixed windows of the rate's period: one cache round trip a call.

    DRF's throttles keep a list of timestamps: a get and a set per call, two Redis round trips,
    each through a Redis client that Django's cache builds anew (about 0.1 ms apiece). This one
    increments a counter whose key names the window: one INCR (and an EXPIRE by the call that
    opens the window), no read first, nothing to reset. Across a window's edge a client can get
    up to twice the rate through, which a limit on polling can bear.
    """

    cache_format = "throttle_window_%(scope)s_%(ident)s"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return _increment(f"{key}_{window}", self.duration) <= self.num_requests

    def wait(self):
        return self.wait_seconds


# Redis clients kept per cache backend's driver, which owns their connection pool; dropped with it.
_redis_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _increment(key: str, timeout: int) -> int:
    """Add one to the count under key (kept timeout seconds from its first call) and return it."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        # Any other cache (the tests' local memory): its own add and incr.
        if backend.add(key, 1, timeout):
            return 1
        try:
            return backend.incr(key)
        except ValueError:  # evicted between the two
            backend.set(key, 1, timeout)
            return 1
    driver = backend._cache  # Django's RedisCacheClient: the pool is its, the client ours
    client = _redis_clients.get(driver)
    if client is None:
        client = _redis_clients[driver] = driver.get_client(write=True)
    full_key = backend.make_and_validate_key(key)
    count = client.incr(full_key)
    if count == 1:
        # Once per window, by whoever opened it. Were this EXPIRE lost, the key would only
        # linger: it names a window that is over once its period has passed.
        client.expire(full_key, timeout)
    return count


class UserPollRateThrottle(_FailOpen, _FixedWindowCounter):
    """Per user at the user rate, for cheap reads that clients poll (the unread count)."""
