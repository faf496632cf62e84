"""Limits on what one client may send: frame size and a sustained message rate."""

import time

MAX_FRAME_BYTES = 64 * 1024
# A token bucket: RATE messages/s sustained, BURST at once. A client over it is closed.
RATE_PER_SECOND = 20.0
BURST = 40.0


def frame_size(text_data: str | None, bytes_data: bytes | None) -> int:
    """Return the frame's size in bytes (a str's char count bounds it from below)."""
    if bytes_data is not None:
        return len(bytes_data)
    if text_data is None:
        return 0
    # Cheap check first: most frames are tiny and ASCII.
    return len(text_data) if len(text_data) * 4 <= MAX_FRAME_BYTES else len(text_data.encode())


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
