"""The attacks of issue 10 against a real daphne, and schemathesis over the whole API.

schemathesis runs as its `st` command (its pytest plugin's lazy loading fails under pytest 9.2)
with every default check and phase, stateful included, for a normal user and for staff; the two
exemptions the API's contract needs are in schemathesis.toml.
"""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from rest_framework.authtoken.models import Token

from tests.processes import Daphne

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HERE = Path(__file__).resolve().parent
ST = Path(sys.executable).parent / "st"
PRODUCTION_KEY = "live-test-production-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def schemathesis(server: Daphne, token: str, report_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ST), "--config-file", str(HERE / "schemathesis.toml"), "run", f"{server.http_url}/api/schema/",
         "--max-examples", "10", "--seed", "1", "--request-timeout", "10",
         "-H", f"Authorization: Token {token}", "--report", "junit", "--report-dir", str(report_dir)],
        cwd=report_dir, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("account", ["user", "staff_user"])
def test_schemathesis_finds_nothing(daphne, request, account, tmp_path):
    token = Token.objects.create(user=request.getfixturevalue(account)).key
    result = schemathesis(daphne, token, tmp_path)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]


def test_fifty_thousand_brackets_are_a_quick_400_from_a_real_server(daphne, user):
    started = time.monotonic()
    response = httpx.post(f"{daphne.http_url}/api/auth/token", content=b"[" * 50_000,
                          headers={"Content-Type": "application/json"}, timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "deeper than 64" in response.json()["detail"]
    assert elapsed < 1
    assert "Traceback" not in daphne.log()


def test_wrong_passwords_are_locked_out_after_ten_on_a_real_server(daphne, user):
    url = f"{daphne.http_url}/api/auth/token"
    codes = [httpx.post(url, json={"username": "alice", "password": f"wrong{n}"}, timeout=10).status_code
             for n in range(12)]
    assert codes[:9] == [401] * 9 and codes[9:] == [429] * 3
    locked = httpx.post(url, json={"username": "alice", "password": "alice-password"}, timeout=10)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"


@pytest.fixture
def production_daphne(transactional_db, tmp_path):
    """A daphne with production settings (DEBUG off, its own key), static files collected."""
    static_root = tmp_path / "static"
    env = {"DEBUG": "false", "SECRET_KEY": PRODUCTION_KEY, "STATIC_ROOT": str(static_root)}
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                               cwd=HERE.parents[1], env={**Daphne().env, **env}, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stderr
    server = Daphne(**env).start()
    yield server
    server.stop()


def test_production_mode_serves_hashed_static_files_and_its_own_error_pages(production_daphne):
    base = production_daphne.http_url
    login = httpx.get(f"{base}/accounts/login/", timeout=10)
    assert login.status_code == 200
    assert "Content-Security-Policy" in login.headers
    stylesheet = login.text.split('href="/static/css/app.', 1)[1].split('"', 1)[0]
    asset = httpx.get(f"{base}/static/css/app.{stylesheet}", timeout=10)
    assert asset.status_code == 200 and "max-age=315360000" in asset.headers["Cache-Control"]
    missing = httpx.get(f"{base}/no/such/page/", timeout=10)
    assert missing.status_code == 404 and "Page not found" in missing.text and 'href="/tasks/"' in missing.text
    assert "URLconf" not in missing.text and "DATABASES" not in missing.text


def test_production_mode_refuses_to_start_without_a_key_of_its_own(transactional_db):
    server = Daphne(DEBUG="false", SECRET_KEY="")
    with pytest.raises(RuntimeError, match="Set SECRET_KEY"):
        server.start()
    server.stop()


def test_two_server_processes_share_one_anonymous_rate_through_redis(transactional_db):
    prefix = f"throttle-test-{time.monotonic_ns()}"  # a fresh count, whatever ran before
    servers = [Daphne(THROTTLE_ANON_RATE="5/min", CACHE_KEY_PREFIX=prefix).start() for _ in range(2)]
    try:
        codes = [httpx.get(f"{servers[n % 2].http_url}/api/background-tasks/summary", timeout=10).status_code
                 for n in range(6)]
    finally:
        for server in servers:
            server.stop()
    assert codes == [401] * 5 + [429]
