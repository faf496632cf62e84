"""Limits on what clients may send: frame size, JSON nesting, and message rates per socket and per user."""

import json
import re
import time
import weakref

from statusmsg.conf import app_settings

MAX_FRAME_BYTES = 64 * 1024
# Deeper JSON is refused before json.loads, whose recursion 50,000 '[' would exhaust.
MAX_JSON_DEPTH = 64
# A token bucket: RATE messages/s sustained, BURST at once, per socket. A client over it is closed.
RATE_PER_SECOND = 20.0
BURST = 40.0

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string literal, escapes included
_BRACKETS = re.compile(r"[\[\]{}]")


def frame_size(text_data: str | None, bytes_data: bytes | None) -> int:
    """Return the frame's size in bytes (a str's char count bounds it from below)."""
    if bytes_data is not None:
        return len(bytes_data)
    if text_data is None:
        return 0
    # Cheap check first: most frames are tiny and ASCII.
    return len(text_data) if len(text_data) * 4 <= MAX_FRAME_BYTES else len(text_data.encode())


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when text nests arrays/objects deeper than limit (brackets inside strings ignored)."""
    if text.count("[") + text.count("{") <= limit:  # most frames stop here
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def loads(text: str):
    """json.loads that raises ValueError, never RecursionError, for input nested too deeply."""
    if too_deep(text):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable after too_deep; kept so no frame can crash a socket
        raise ValueError("JSON nested too deeply") from None


class RateLimiter:
    """Token bucket; `allow()` is False once a client exceeds the sustained rate."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: float = BURST, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.updated = clock()

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# One bucket per user in this process, shared by all their sockets here; an entry lives as
# long as one of them holds it. Per process, not across daphnes: the per-socket bucket and
# MAX_SOCKETS_PER_USER bound what a user can send through the other processes.
_user_limiters: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def user_limiter(user_id) -> RateLimiter:
    """Return the message bucket this process shares among user_id's sockets (USER_MESSAGE_RATE/s)."""
    limiter = _user_limiters.get(user_id)
    if limiter is None:
        rate = float(app_settings.USER_MESSAGE_RATE)
        # A burst of two seconds' worth: a few tabs that (re)connect at once may each say hello.
        limiter = _user_limiters[user_id] = RateLimiter(rate=rate, burst=2 * rate)
    return limiter
