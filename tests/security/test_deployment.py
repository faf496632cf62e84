"""Item 2: production settings unless development is asked for; check --deploy passes in production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "-production-key-of-its-own-0123456789abcdefghij"
PRODUCTION = {
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "statusmsg.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://statusmsg.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def clean_env(**extra) -> dict:
    """The environment of a fresh server process: none of the tests' settings variables."""
    dropped = {"SECRET_KEY", "DEBUG", "STATUSMSG_DEV", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped and not key.startswith("SECURE_")}
    return {**env, "DJANGO_SETTINGS_MODULE": "statusmsg.settings", "DATABASE_URL": "sqlite:///:memory:", **extra}


def manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env(**env),
                          capture_output=True, text=True, timeout=60)


def settings_value(name: str, **env) -> str:
    code = f"import django; from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env(**env),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debug_is_off_unless_asked_for():
    assert settings_value("DEBUG", SECRET_KEY=STRONG_KEY) == "False"
    assert settings_value("DEBUG", STATUSMSG_DEV="1") == "True"
    assert settings_value("DEBUG", DEBUG="1") == "True"


@pytest.mark.parametrize("key", [None, "dev-only-insecure-key-set-SECRET_KEY-in-production", "short"])
def test_production_refuses_to_start_without_a_secret_key_of_its_own(key):
    env = {} if key is None else {"SECRET_KEY": key}
    result = manage("check", **env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: Set SECRET_KEY")


def test_development_runs_with_the_committed_key():
    assert manage("check", STATUSMSG_DEV="1").returncode == 0


def test_check_deploy_passes_with_the_documented_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_them():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_production_static_files_are_hashed_and_cached_for_a_year(tmp_path):
    static_root = tmp_path / "static"
    result = manage("collectstatic", "--noinput", SECRET_KEY=STRONG_KEY, STATIC_ROOT=str(static_root))
    assert result.returncode == 0, result.stderr
    code = """
from django.test import Client
from django.templatetags.static import static
url = static("js/live-socket.js")
response = Client().get(url)
print(url, response.status_code, response["Cache-Control"])
"""
    answer = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT,
                            env=clean_env(SECRET_KEY=STRONG_KEY, STATIC_ROOT=str(static_root),
                                          ALLOWED_HOSTS="testserver"),
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    url, status, cache_control = answer.stdout.split(maxsplit=2)
    assert url.startswith("/static/js/live-socket.") and url != "/static/js/live-socket.js"
    assert status == "200"
    assert "max-age=315360000" in cache_control and "immutable" in cache_control


def test_a_deployment_without_collectstatic_gets_pages_not_500s(tmp_path):
    code = ("import django; django.setup()\nfrom django.test import Client\n"
            "print(Client().get('/accounts/login/').status_code)")
    answer = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=clean_env(SECRET_KEY=STRONG_KEY, STATIC_ROOT=str(tmp_path / "empty"),
                                          ALLOWED_HOSTS="testserver"))
    assert answer.stdout.strip() == "200", answer.stderr
    assert "run manage.py collectstatic" in answer.stderr
