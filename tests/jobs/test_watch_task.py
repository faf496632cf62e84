"""`manage.py watch_task`: follows a job to its end and exits by its outcome, from the database or the socket."""

import asyncio
import io
import json
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rich.console import Console

from jobs import lifecycle, watching
from jobs.models import Status, TaskInfo
from jobs.reporting import ProgressReporter
from tests.factories import article
from tests.processes import BASE_DIR, Daphne, free_port, process_env


def watch(*args) -> tuple[int, str]:
    """Run the command in-process; return (exit status, output)."""
    out = io.StringIO()
    try:
        call_command("watch_task", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def ended(task_id, status, **fields):
    lifecycle.start_task(task_id)
    lifecycle.finish_task(task_id, status, **fields)
    return task_id


def display() -> watching.ProgressDisplay:
    return watching.ProgressDisplay(Console(file=io.StringIO()))


# --- polling the database (SQLite) --------------------------------------------------------------

@pytest.mark.django_db
def test_poll_exits_0_and_prints_the_result_of_a_completed_job(make_task):
    task_id = ended(make_task(total_items=3), Status.COMPLETED, result={"saved": 3}, processed_items=3)
    code, output = watch(str(task_id), "--poll")
    assert code == 0
    assert "test task: completed (3/3 items)" in output and 'result: {"saved": 3}' in output


@pytest.mark.django_db
def test_poll_exits_1_and_prints_the_error_of_a_failed_job(make_task):
    task_id = ended(make_task(), Status.FAILED, error="ValueError: [bold]no[/bold]")
    code, output = watch(str(task_id), "--poll")
    assert code == 1
    assert "error: ValueError: [bold]no[/bold]" in output  # printed as is, not as rich markup


@pytest.mark.django_db
def test_poll_exits_2_for_a_cancelled_job(make_task):
    task_id = make_task()
    lifecycle.cancel_task(task_id)
    assert watch(str(task_id), "--poll")[0] == 2


@pytest.mark.django_db
def test_poll_follows_a_running_job_to_its_end(make_task, monkeypatch):
    task_id = make_task(total_items=4)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, total_items=4, interval=0)
    steps = [lambda: reporter(2, current="two"), lambda: reporter(4, current="four"),
             lambda: lifecycle.finish_task(task_id, Status.COMPLETED, result={"saved": 4}, processed_items=4)]
    drawn = []
    view = display()

    def between_reads(seconds):
        assert seconds == 0.25
        drawn.append((view.shown["status"], view.shown["processed_items"]))
        steps.pop(0)()

    monkeypatch.setattr(watching.time, "sleep", between_reads)
    final = watching.poll_task(task_id, view, interval=0.25)
    assert drawn == [("running", 0), ("running", 2), ("running", 4)]
    assert final["status"] == "completed" and final["seq"] == TaskInfo.objects.get(pk=task_id).seq
    assert view.progress.tasks[0].completed == 4 and view.progress.tasks[0].total == 4


@pytest.mark.django_db
@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_watching_an_unknown_job_exits_3(task_id):
    with pytest.raises(CommandError, match="No such task") as error:
        watch(task_id, "--poll")
    assert error.value.returncode == watching.EXIT_CANNOT_WATCH


def test_socket_mode_without_a_token_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("STATUSMSG_TOKEN", raising=False)
    with pytest.raises(CommandError, match="--token or STATUSMSG_TOKEN") as error:
        watch("00000000-0000-0000-0000-000000000000")
    assert error.value.returncode == watching.EXIT_CANNOT_WATCH


def test_socket_mode_refuses_a_url_that_is_not_a_websocket_url():
    with pytest.raises(CommandError, match="ws://, wss://"):
        watch("00000000-0000-0000-0000-000000000000", "--token", "k", "--url", "ftp://127.0.0.1:8000")


# --- the display and the backoff ------------------------------------------------------------------

def snapshot(seq, status="running", processed=1, **fields):
    return {"id": "j", "name": "job", "status": status, "seq": seq, "processed_items": processed,
            "total_items": 10, "current_item": "", "cancel_requested_at": None, **fields}


def test_display_ignores_snapshots_not_newer_than_the_one_shown():
    view = display()
    assert view.show(snapshot(5, processed=5))
    assert not view.show(snapshot(3, processed=3))
    assert not view.show(snapshot(5, processed=4))
    assert view.progress.tasks[0].completed == 5
    assert view.show(snapshot(6, processed=6)) and view.progress.tasks[0].completed == 6


def test_display_shows_a_requested_cancel_and_a_lost_connection():
    view = display()
    view.show(snapshot(2, cancel_requested_at="2026-01-01T00:00:00Z"))
    assert view.progress.tasks[0].description == "cancelling…"
    view.connection("reconnecting…")
    assert view.progress.tasks[0].description == "reconnecting…"
    view.show(snapshot(3))
    assert view.progress.tasks[0].description == "running"


def test_reconnect_delays_grow_with_jitter_up_to_the_cap():
    lows = [watching.backoff_delay(n, rand=lambda: 0) for n in range(12)]
    highs = [watching.backoff_delay(n, rand=lambda: 0.999) for n in range(12)]
    assert lows[:4] == [0.25, 0.5, 1.0, 2.0] and lows[-1] == 7.5
    assert all(low < high <= 15 for low, high in zip(lows, highs, strict=True))


# --- the socket client against a scripted server (no Django server) ---------------------------

class ScriptedServer:
    """A WebSocket server that plays one script per connection, in order."""

    def __init__(self, *scripts, refuse_with: int | None = None):
        self.scripts = list(scripts)
        self.refuse_with = refuse_with
        self.headers = []

    async def __aenter__(self):
        from websockets.asyncio.server import serve

        self.server = await serve(self._play, "127.0.0.1", 0, process_request=self._check)
        self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info):
        self.server.close()
        await self.server.wait_closed()

    def _check(self, connection, request):
        self.headers.append(request.headers.get("Authorization"))
        if self.refuse_with:
            return connection.respond(self.refuse_with, "refused\n")
        return None

    async def _play(self, connection):
        for step in self.scripts.pop(0):
            if isinstance(step, int):
                await connection.close(code=step)
                return
            await connection.send(json.dumps(step))
        await connection.wait_closed()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


def test_socket_client_reconnects_and_ends_on_the_final_snapshot():
    view = display()
    established = {"type": "connection_established", "status": "connected"}

    async def scenario():
        async with ScriptedServer(
            [established, {"type": "job_update", "task": snapshot(5, processed=5)},
             {"type": "job_update", "task": snapshot(4, processed=4)}, 1011],   # dropped mid-job
            [established, {"type": "job_update", "task": snapshot(9, status="completed", processed=10)}],
        ) as server:
            final = await watching.follow_socket("j", server.url, "secret", view, delay=lambda attempt: 0.01)
            return final, server.headers

    final, headers = run(scenario())
    assert final["status"] == "completed" and final["seq"] == 9
    assert headers == ["Token secret", "Token secret"]
    assert view.progress.tasks[0].completed == 10


@pytest.mark.parametrize("refusal", [{"refuse_with": 403}, {"close_with": 4404}])
def test_socket_client_gives_up_when_the_server_refuses(refusal):
    async def scenario():
        scripts = [[refusal["close_with"]]] if "close_with" in refusal else []
        async with ScriptedServer(*scripts, refuse_with=refusal.get("refuse_with")) as server:
            await watching.follow_socket("j", server.url, "bad", display(), delay=lambda attempt: 0.01)

    with pytest.raises(watching.WatchRefused):
        run(scenario())


# --- against the real system (daphne, a cluster, PostgreSQL, Redis) --------------------------------

def watcher(task_id, server_url: str, token: str) -> subprocess.Popen:
    env = process_env(STATUSMSG_TOKEN=token)
    return subprocess.Popen([sys.executable, "manage.py", "watch_task", str(task_id), "--url", server_url],
                            cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process, timeout=60) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_watch_over_the_socket_exits_0_when_a_bulk_save_completes(daphne, qcluster, user):
    token = Token.objects.create(user=user).key
    articles = [article(n) for n in range(300)]
    task_id = lifecycle.create_task(name="Bulk save of 300 articles", total_items=300, owner=user,
                                    params={"articles": articles})
    code, output = finish(watcher(task_id, daphne.ws_url, token))
    assert code == 0, output
    assert "Bulk save of 300 articles: completed (300/300 items)" in output
    assert json.loads(output.split("result: ", 1)[1]) == TaskInfo.objects.get(pk=task_id).result


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_watch_over_the_socket_exits_1_when_the_job_fails(daphne, qcluster, user):
    token = Token.objects.create(user=user).key
    task_id = lifecycle.create_task(name="job without its input", total_items=1, owner=user, params={})
    code, output = finish(watcher(task_id, daphne.ws_url, token))
    assert code == 1, output
    assert "error: TypeError" in output


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_watch_over_the_socket_exits_2_for_a_cancelled_job_and_3_for_someone_elses(daphne, user, other_user):
    task_id = lifecycle.create_task(name="cancelled before it ran", total_items=1, owner=user)
    lifecycle.cancel_task(task_id, by=user)
    assert finish(watcher(task_id, daphne.ws_url, Token.objects.create(user=user).key))[0] == 2
    code, output = finish(watcher(task_id, daphne.ws_url, Token.objects.create(user=other_user).key))
    assert code == 3 and "refused" in output


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_watch_over_the_socket_waits_for_a_server_that_is_not_up_yet(user):
    token = Token.objects.create(user=user).key
    task_id = ended(lifecycle.create_task(name="done", total_items=1, owner=user), Status.COMPLETED,
                    result={"saved": 1}, processed_items=1)
    port = free_port()
    process = watcher(task_id, f"ws://127.0.0.1:{port}", token)
    try:
        time.sleep(2)
        assert process.poll() is None  # still trying
        server = Daphne(port=port).start()
        try:
            code, output = finish(process, timeout=30)
        finally:
            server.stop()
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert "done: completed (1/1 items)" in output
