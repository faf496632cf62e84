"""This process's sockets as the seed's connection manager kept them: by path, by user, messages sent and dropped.

Updated by the consumers on the event loop; read (snapshot) by the reporter thread that
operations starts in each web process, so that any process can report on all.
"""

import os
import resource
import threading
from collections import Counter

from statusmsg.metrics import WEBSOCKET_CONNECTIONS


class ConnectionStats:
    """Counters of one process's sockets; updated from the event loop, read by the reporter thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.sockets_by_path: Counter[str] = Counter()
        self.sockets_by_user: Counter[str] = Counter()
        self.messages_sent = 0
        self.messages_dropped = 0

    def opened(self, path: str, user_id) -> None:
        WEBSOCKET_CONNECTIONS.inc()
        with self._lock:
            self.sockets_by_path[path_kind(path)] += 1
            self.sockets_by_user[str(user_id)] += 1

    def closed(self, path: str, user_id) -> None:
        WEBSOCKET_CONNECTIONS.dec()
        with self._lock:
            for counter, key in ((self.sockets_by_path, path_kind(path)), (self.sockets_by_user, str(user_id))):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    def sent(self, count: int = 1) -> None:
        self.messages_sent += count  # one int add: atomic enough under the GIL for a counter

    def dropped(self, count: int = 1) -> None:
        self.messages_dropped += count

    def snapshot(self) -> dict:
        with self._lock:
            by_path, by_user = dict(self.sockets_by_path), dict(self.sockets_by_user)
        return {
            "sockets": sum(by_path.values()),
            "sockets_by_path": by_path,
            "sockets_by_user": by_user,
            "messages_sent": self.messages_sent,
            "messages_dropped": self.messages_dropped,
            **file_descriptors(),
        }


def path_kind(path: str) -> str:
    """Return the route of a socket path without its id: /ws/bulk-process/<id> -> /ws/bulk-process/."""
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else path


def file_descriptors() -> dict:
    """Return this process's open file descriptors and its soft limit."""
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (macOS): unknown rather than wrong
        used = None
    return {"fds_used": used, "fds_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


stats = ConnectionStats()
