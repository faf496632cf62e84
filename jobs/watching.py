"""Follow one job to its end from a terminal: live over its socket, or by polling the database.

Used by `manage.py watch_task`. Both ways feed task snapshots (the REST shape, with `seq`)
to a ProgressDisplay and end with the final snapshot; the exit code follows its status.
"""

import asyncio
import json
import random
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from .models import FINAL_STATUSES, Status
from .queries import get_task
from .serializers import task_snapshot
from .timing import timing_words

EXIT_CODES = {Status.COMPLETED: 0, Status.FAILED: 1, Status.CANCELLED: 2}
EXIT_CANNOT_WATCH = 3  # unknown job, not yours, bad token: distinct from the job's own outcome

# Close codes (and, before the handshake completes, HTTP statuses) that retrying cannot fix.
REFUSED_CLOSE_CODES = (4401, 4403, 4404)
REFUSED_HTTP_STATUSES = (401, 403, 404)
CURRENT_ITEM_CHARS = 60


DEFAULT_CONNECT_TIMEOUT = 15.0


class WatchRefused(Exception):
    """The server will not stream this job to us (unknown job, someone else's, or a bad token)."""


class WatchUnreachable(Exception):
    """No connection to the server within the connect timeout (nothing listening, wrong URL)."""


def default_base_url(environ) -> str:
    """Return the server's WebSocket base URL: $STATUSMSG_URL, else this machine on $PORT (8000)."""
    return environ.get("STATUSMSG_URL") or f"ws://127.0.0.1:{environ.get('PORT') or 8000}"


def websocket_base_url(url: str) -> str:
    """Return url with an http(s) scheme turned into ws(s), as the page's own address would be given."""
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(http):
            return ws + url[len(http):]
    return url


def job_socket_url(base_url: str, task_id) -> str:
    """Return the URL of the job's socket under base_url."""
    return f"{base_url.rstrip('/')}/ws/bulk-process/{task_id}"


def exit_code(snapshot: dict) -> int:
    return EXIT_CODES[Status(snapshot["status"])]


def is_final(snapshot: dict) -> bool:
    return snapshot["status"] in FINAL_STATUSES


def backoff_delay(
    attempt: int, base: float = 0.5, cap: float = 15.0, rand: Callable[[], float] = random.random
) -> float:
    """Seconds before reconnect attempt n: exponential, capped, half of it random (as live-socket.js)."""
    ceiling = min(cap, base * 2**attempt)
    return ceiling / 2 + rand() * ceiling / 2


class ProgressDisplay:
    """A rich progress bar for one job; drops any snapshot not newer than the one shown."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}", style="dim"),
            console=console,
        )
        self.bar = self.progress.add_task("connecting…", total=None, detail="")
        self.shown: dict | None = None
        self.connection_note = ""

    def __enter__(self) -> "ProgressDisplay":
        self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()

    def show(self, snapshot: dict) -> bool:
        """Draw snapshot if it is newer than the one shown; return whether it was drawn."""
        if self.shown is not None and snapshot["seq"] <= self.shown["seq"]:
            return False
        self.shown = snapshot
        self.connection_note = ""
        self._draw()
        return True

    def connection(self, note: str) -> None:
        """Show a connection state (e.g. "reconnecting…") until the next snapshot."""
        self.connection_note = note
        self._draw()

    def _draw(self) -> None:
        snapshot = self.shown
        if snapshot is None:
            self.progress.update(self.bar, description=self.connection_note or "connecting…")
            return
        status = snapshot["status"]
        if status == Status.RUNNING and snapshot.get("cancel_requested_at"):
            status = "cancelling…"
        current = snapshot.get("current_item") or ""
        if len(current) > CURRENT_ITEM_CHARS:
            current = "…" + current[-(CURRENT_ITEM_CHARS - 1):]
        self.progress.update(
            self.bar,
            description=self.connection_note or status,
            total=snapshot["total_items"] or None,
            completed=snapshot["processed_items"],
            detail=" · ".join(part for part in (timing_words(snapshot), current) if part),
        )

    def summary(self, snapshot: dict) -> None:
        """Print the outcome under the bar: counts, then the result or the error."""
        name, status = snapshot["name"], snapshot["status"]
        self.console.print(f"{name}: {status} ({snapshot['processed_items']}/{snapshot['total_items']} items)")
        if snapshot.get("error"):
            self.console.print(f"error: {snapshot['error']}", markup=False)
        if snapshot.get("result") is not None:
            self.console.print(f"result: {json.dumps(snapshot['result'], ensure_ascii=False)}", markup=False)


def poll_task(task_id, display: ProgressDisplay, interval: float = 0.5, sleep=None) -> dict:
    """Read the job's row every interval seconds until it ends; return its final snapshot.

    Raise TaskNotFound for an unknown or malformed id.
    """
    sleep = sleep or time.sleep
    while True:
        snapshot = task_snapshot(get_task(task_id))
        display.show(snapshot)
        if is_final(snapshot):
            return snapshot
        sleep(interval)


async def follow_socket(task_id, base_url: str, token: str, display: ProgressDisplay,
                        delay: Callable[[int], float] = backoff_delay,
                        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> dict:
    """Follow /ws/bulk-process/<task_id> until the job ends, reconnecting when the socket drops.

    The server sends the job's snapshot on every connect, so nothing needs replaying after
    a reconnect. Return the final snapshot; raise WatchRefused when the server refuses us,
    and WatchUnreachable when no first connection opens within connect_timeout seconds.
    Once connected, a dropped socket is retried without a deadline: the server restarting
    under a long job should not end the watch.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

    url = job_socket_url(base_url, task_id)
    # A token handshake needs no Origin: a browser cannot send this header, so no
    # cross-site page can be behind it.
    headers = {"Authorization": f"Token {token}"}
    attempt = 0
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + connect_timeout
    connected = False
    while True:
        open_timeout = 10 if connected else max(0.1, min(10, give_up_at - loop.time()))
        try:
            async with connect(url, additional_headers=headers, open_timeout=open_timeout) as socket:
                attempt = 0
                connected = True
                async for raw in socket:
                    message = json.loads(raw)
                    if message.get("type") in ("job_update", "status_request"):
                        display.show(message["task"])
                        if is_final(display.shown):
                            return display.shown
        except InvalidURI as exc:
            raise WatchRefused(f"not a WebSocket URL: {exc.uri}") from None
        except InvalidStatus as exc:
            if exc.response.status_code in REFUSED_HTTP_STATUSES:
                raise WatchRefused(f"the server refused to stream job {task_id} (HTTP {exc.response.status_code}): "
                                   "no such job, not yours, or a bad token") from None
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code in REFUSED_CLOSE_CODES:
                raise WatchRefused(f"the server closed the stream of job {task_id} "
                                   f"(code {exc.rcvd.code}: {exc.rcvd.reason or 'refused'})") from None
        except (OSError, TimeoutError, WebSocketException, ValueError):
            pass  # server down, restarting, or a garbled frame: try again after a pause
        if not connected and loop.time() >= give_up_at:
            raise WatchUnreachable(f"no connection to {url} within {connect_timeout:g} s: is the server "
                                   "running there? (set --url, STATUSMSG_URL or PORT)")
        display.connection("reconnecting…" if connected else "connecting…")
        pause = delay(attempt)
        if not connected:
            pause = max(0.0, min(pause, give_up_at - loop.time()))
        await asyncio.sleep(pause)
        attempt += 1
