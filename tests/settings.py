"""Test settings: SQLite and the in-memory channel layer, or with STATUSMSG_TEST_SERVICES=1
the real PostgreSQL (TEST_DATABASE_URL) and Redis (REDIS_URL) for the `services` tests."""

import os

# Before the import: production settings refuse to load without a key of their own, and the
# server processes the tests start inherit this environment. The API rates are set far above
# what any test sends; tests/security lowers them where it tests them.
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("THROTTLE_ANON_RATE", "100000/min")
os.environ.setdefault("THROTTLE_USER_RATE", "100000/min")

from statusmsg.settings import *  # noqa: F403
from statusmsg.settings import _database, env

USE_REAL_SERVICES = env.bool("STATUSMSG_TEST_SERVICES", default=False)
TEST_DATABASE_URL = env("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/statusmsg")
TEST_REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

# Lets two test runs share this machine (e.g. a second checkout or a helper's run): each gets
# its own test databases and channel prefix.
RUN_SUFFIX = env("STATUSMSG_TEST_RUN", default="")

if USE_REAL_SERVICES:
    DATABASES = {"default": _database(TEST_DATABASE_URL)}
    if RUN_SUFFIX:
        DATABASES["default"]["TEST"] = {"NAME": f"test_statusmsg_{RUN_SUFFIX}"}
    REDIS_URL = TEST_REDIS_URL
    CHANNEL_LAYERS = {
        "default": {
            # The server processes' backend: a test that publishes must reach their sockets.
            "BACKEND": CHANNEL_LAYERS["default"]["BACKEND"],  # noqa: F405
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNEL_PREFIX", default=f"statusmsg-test{RUN_SUFFIX}")},
        }
    }
else:
    # A file, not :memory:: shared-cache memory databases lock whole tables, and the worker
    # tests run a job and its heartbeat in threads that write at the same time.
    DATABASES = {"default": _database(f"sqlite:///{VAR_DIR / 'test-default.sqlite3'}")}  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test{RUN_SUFFIX}.sqlite3")}  # noqa: F405
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEST_JOB_KINDS = ("counting=tests.jobs.jobfuncs.counting_job,silent=tests.jobs.jobfuncs.silent_slow_job,"
                  "telltale=tests.jobs.jobfuncs.telltale_job,cancellable=tests.jobs.jobfuncs.cancellable_job")
STATUSMSG = {
    **STATUSMSG,  # noqa: F405
    "PROGRESS_INTERVAL": 0.05,
    "HEARTBEAT_INTERVAL": 0.2,
    "EXTRA_JOB_KINDS": TEST_JOB_KINDS,
    # No reporter thread in the test process (it would write from a thread the test database
    # does not expect); the server processes the tests start report as in production.
    "PROCESS_REPORT_EVERY": 0,
}

# No collectstatic in tests: plain storage, files found in static/ and the apps.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The throttles' counters: in this process only (the server processes use Redis).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"tests{RUN_SUFFIX}"}}
# client.login() calls authenticate() without a request, which django-axes refuses; the tests
# in tests/security turn it on.
AXES_ENABLED = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}  # noqa: F405
