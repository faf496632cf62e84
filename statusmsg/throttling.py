"""API rate limits that share their counters across processes and fail open when the cache is down.

The counters live in the default cache (Redis in production), so N daphne processes enforce one
rate. A Redis outage must not take the API down with it: the request is let through and the
failure logged, as the realtime pushes do. The one exception is the limit on polls of cheap
reads (UserPollRateThrottle), which counts in the process and so never waits on Redis.
"""

import logging
import threading

from django.core.signals import setting_changed
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _RateReadWhenUsed:
    def get_rate(self):
        # Read when used, not at import as DRF does: settings changes (tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _FailOpen(_RateReadWhenUsed):
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


class UserPollRateThrottle(_RateReadWhenUsed, throttling.UserRateThrottle):
    """Per user at the user rate, counted in this process: for cheap reads that clients poll.

    A badge polls the unread count, one indexed statement; DRF's throttle would add a cache
    get and set to each poll (two Redis round trips, each through a client Django builds anew),
    and a shared counter one round trip still. So this one counts in memory, in fixed windows
    of the rate's period: no I/O, nothing to fail. Per process, as realtime's per-user message
    limit is: with N daphnes a user gets up to N times the rate (and, across a window's edge,
    twice it), which bounds a runaway poller, the point of this limit. Its budget is its own:
    polls do not use up the one the rest of the API shares.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return _poll_counts.add(key, window) <= self.num_requests

    def wait(self):
        return self.wait_seconds


class _WindowCounts:
    """Calls per key in the current window, in this process; a new window starts them all afresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: int | None = None
        self._counts: dict[str, int] = {}

    def add(self, key: str, window: int) -> int:
        """Count one call for key in window; return how many key has made in it."""
        with self._lock:  # daphne runs sync views on more than one thread
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts[key] = self._counts.get(key, 0) + 1
            return count

    def clear(self) -> None:
        with self._lock:
            self._window, self._counts = None, {}


_poll_counts = _WindowCounts()


def _restart_counts(*, setting, **kwargs) -> None:
    # New rates start a fresh count, as a fresh cache does for the other throttles.
    if setting == "REST_FRAMEWORK":
        _poll_counts.clear()


setting_changed.connect(_restart_counts)
