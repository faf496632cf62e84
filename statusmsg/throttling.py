"""API rate limits that share their counters across processes and fail open when the cache is down.

The counters live in the default cache (Redis in production), so N daphne processes enforce one
rate. A Redis outage must not take the API down with it: the request is let through and the
failure logged, as the realtime pushes do.
"""

import logging

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
