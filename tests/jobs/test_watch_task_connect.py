"""`manage.py watch_task`: where it connects (PORT, STATUSMSG_URL), saying so, giving up, its timing line."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from jobs import timing, watching
from tests.processes import free_port

TASK_ID = "00000000-0000-0000-0000-000000000000"


def watch_unreachable(*args) -> tuple[CommandError, str, float]:
    out = io.StringIO()
    started = time.monotonic()
    with pytest.raises(CommandError) as error:
        call_command("watch_task", TASK_ID, "--token", "k", *args, stdout=out)
    return error.value, out.getvalue(), time.monotonic() - started


def test_watch_prints_the_url_and_exits_3_when_nothing_answers_within_the_connect_timeout():
    url = f"ws://127.0.0.1:{free_port()}"
    error, output, took = watch_unreachable("--url", url, "--connect-timeout", "0.5")
    assert error.returncode == watching.EXIT_CANNOT_WATCH
    assert f"Connecting to {url}/ws/bulk-process/{TASK_ID}" in output
    assert "no connection" in str(error).lower() and url in str(error)
    assert 0.4 < took < 5


def test_watch_connects_to_port_from_the_environment(monkeypatch):
    port = free_port()
    monkeypatch.delenv("STATUSMSG_URL", raising=False)
    monkeypatch.setenv("PORT", str(port))
    error, output, _ = watch_unreachable("--connect-timeout", "0.2")
    assert f"Connecting to ws://127.0.0.1:{port}/ws/bulk-process/" in output
    assert error.returncode == watching.EXIT_CANNOT_WATCH


def test_watch_prefers_statusmsg_url_and_takes_an_http_address(monkeypatch):
    port = free_port()
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("STATUSMSG_URL", f"http://127.0.0.1:{port}/")
    _, output, _ = watch_unreachable("--connect-timeout", "0.2")
    assert f"Connecting to ws://127.0.0.1:{port}/ws/bulk-process/" in output


@pytest.mark.parametrize("environ, expected", [
    ({}, "ws://127.0.0.1:8000"),
    ({"PORT": "8123"}, "ws://127.0.0.1:8123"),
    ({"PORT": "8123", "STATUSMSG_URL": "wss://example.org"}, "wss://example.org"),
])
def test_default_base_url(environ, expected):
    assert watching.default_base_url(environ) == expected


def test_connect_timeout_must_be_positive():
    error, _, _ = watch_unreachable("--connect-timeout", "0")
    assert error.returncode == watching.EXIT_CANNOT_WATCH


@pytest.mark.parametrize("snapshot, words", [
    ({"status": "running", "eta_seconds": 118, "items_per_second": 14.2}, "about 2 min left · 14 items/s"),
    ({"status": "running", "eta_seconds": 40, "items_per_second": 2.0}, "40 s left · 2.0 items/s"),
    ({"status": "running", "eta_seconds": None, "items_per_second": None}, ""),
    ({"status": "pending", "queue_position": 3}, "3rd in line"),
    ({"status": "pending", "queue_position": 11}, "11th in line"),
    ({"status": "completed", "eta_seconds": None, "items_per_second": 3.0}, ""),
])
def test_timing_words(snapshot, words):
    assert timing.timing_words(snapshot) == words


def test_the_progress_line_shows_the_time_left():
    console_out = io.StringIO()
    from rich.console import Console

    view = watching.ProgressDisplay(Console(file=console_out, width=200))
    view.show({"seq": 2, "status": "running", "total_items": 240, "processed_items": 60, "current_item": "",
               "eta_seconds": 90, "items_per_second": 2.0, "queue_position": None})
    assert view.progress.tasks[0].fields["detail"] == "about 2 min left · 2.0 items/s"
