"""Helpers of the live task-group tests: a paced local site, a gated splitting job, cluster logs, a parent's socket.

The job here runs inside real worker processes (STATUSMSG_EXTRA_JOB_KINDS names it), so this
module imports nothing heavy at its top.
"""

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GATED_KIND = "group_gated"
GATED_JOB = f"{GATED_KIND}=tests.articles.group_runs.gated_items_job:items"
GATE_WAIT_LIMIT = 120.0  # seconds a gated chunk waits for its gate before it gives up


def gated_items_job(progress_callback, items: list, delay: float = 0.0, gate: str = "") -> dict:
    """Report each item done (delay seconds apiece), then wait until the file gate exists before returning.

    Every chunk of a group has then written its last progress before any chunk ends, so the
    parent's count is the sum of the chunks' added deltas alone (a chunk's ending recounts it).
    """
    for done, item in enumerate(items, start=1):
        time.sleep(delay)
        progress_callback(done, current=item)
    waited_until = time.monotonic() + GATE_WAIT_LIMIT
    while gate and not Path(gate).exists() and time.monotonic() < waited_until:
        time.sleep(0.02)
    return {"counted": len(items)}


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A fetcher that was killed or stopped hangs up mid-request: that is the tests' doing, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class PacedSite:
    """A local site whose every article page answers after delay seconds, in a thread of this process."""

    def __init__(self, delay: float):
        self.delay = delay
        self.hits: dict[str, int] = {}
        self._hits_lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> "PacedSite":
        from tests.articles.sites import SOLAR_PARAGRAPHS, SOLAR_TITLE, article_page

        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else the body waits on a delayed ACK (~40 ms)

            def do_GET(self):
                time.sleep(site.delay)
                with site._hits_lock:
                    site.hits[self.path] = site.hits.get(self.path, 0) + 1
                body = article_page(f"{SOLAR_TITLE} ({self.path})", SOLAR_PARAGRAPHS).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="paced-site", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def urls(self, count: int, prefix: str = "story") -> list[str]:
        return [f"http://{self.host_port}/{prefix}/{n}.html" for n in range(count)]


# What a cluster's log says (django-q2 logs its workers at INFO): each worker's pid, and each
# job a worker took, by its queue name "<kind>:<task id>".
_READY = re.compile(r"(Process-\w+) ready for work at (\d+)")
_PROCESSING = re.compile(r"(Process-\w+) processing \w+:([0-9a-f-]{36})")


def cluster_is_running(log: str) -> bool:
    return "] running." in log


def worker_pids(log: str) -> set[int]:
    """Return the pids of the workers a cluster's log says it started."""
    return {int(pid) for _name, pid in _READY.findall(log)}


def chunks_run_by(log: str) -> dict[str, int]:
    """Return {task id: pid of the worker that took it} for every job a cluster's log says it took.

    A task taken twice (a chunk run again) keeps the later worker.
    """
    pids = {name: int(pid) for name, pid in _READY.findall(log)}
    return {task_id: pids.get(name, 0) for name, task_id in _PROCESSING.findall(log)}


class SocketFollower(threading.Thread):
    """Follow one job over /ws/bulk-process/<id> and record every message, until its final one and a grace after."""

    FINAL = ("completed", "failed", "cancelled")

    def __init__(self, ws_url: str, job_id: str, token: str, grace: float = 1.0, timeout: float = 120):
        super().__init__(name=f"follow-{job_id}", daemon=True)
        self.url, self.job_id, self.token = f"{ws_url}/ws/bulk-process/{job_id}", job_id, token
        self.grace, self.timeout = grace, timeout
        self.messages: list[dict] = []
        self.connected = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        try:
            with connect(self.url, additional_headers={"Authorization": f"Token {self.token}"},
                         open_timeout=20, max_size=None) as socket:
                self.connected.set()
                deadline = time.monotonic() + self.timeout
                while time.monotonic() < deadline:
                    self.messages.append(json.loads(socket.recv(timeout=deadline - time.monotonic())))
                    if self._final_seen():
                        break
                # Anything sent after the final state (there must be nothing) arrives within the grace.
                try:
                    while True:
                        self.messages.append(json.loads(socket.recv(timeout=self.grace)))
                except TimeoutError:
                    pass
        except (TimeoutError, ConnectionClosed, OSError) as exc:
            self.error = exc
        finally:
            self.connected.set()

    def _final_seen(self) -> bool:
        message = self.messages[-1]
        return message.get("type") == "job_update" and message.get("task", {}).get("status") in self.FINAL

    def job_updates(self) -> list[dict]:
        return [message for message in self.messages if message.get("type") == "job_update"]
