"""Settings for statusmsg, read from the environment (see README for every variable)."""

from pathlib import Path

import environ

from statusmsg.conf import DEFAULTS as STATUSMSG_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# A fixed development key keeps `make run` zero-config; production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-set-SECRET_KEY-in-production")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_q",
    "channels",
    "jobs",
    "articles",
    "notifications",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "statusmsg.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "statusmsg.wsgi.application"
ASGI_APPLICATION = "statusmsg.asgi.application"


def _database(url: str) -> dict:
    """Return a DATABASES entry for url, tuned for the backend it names."""
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the web and worker processes read while one writes; IMMEDIATE
        # transactions take the write lock up front instead of failing on upgrade.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        # Without persistent connections every django-q2 ORM-broker call opens a
        # new PostgreSQL connection, and enqueueing falls about tenfold.
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database(env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'statusmsg.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/tasks/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Request bodies past this size are refused before parsing (bulk inputs are bounded too).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- statusmsg's own options (defaults in statusmsg/conf.py, read through app_settings):
# each one is overridable from the environment as STATUSMSG_<KEY>.
STATUSMSG = {
    key: env(f"STATUSMSG_{key}", cast=type(default))
    for key, default in STATUSMSG_DEFAULTS.items()
    if f"STATUSMSG_{key}" in env.ENVIRON
}
_statusmsg = {**STATUSMSG_DEFAULTS, **STATUSMSG}  # for the settings below, which are read once

# --- Redis: the channel layer (and nothing else by default).
# No REDIS_URL means the embedded Redis that `make run` starts under var/.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_SOCKET}")
CHANNEL_LAYERS = {
    "default": {
        # Pub/sub: one PUBLISH per group send, fanned out inside each daphne process; about
        # 6x the group sends/s of RedisChannelLayer here (bench/channel_layers.py). Its
        # at-most-once delivery is fine: clients catch up from the snapshot + seq.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            # Short timeouts: a Redis that is down or hanging must not stall a job's pushes.
            "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1, "socket_timeout": 3}],
            "prefix": env("CHANNEL_PREFIX", default="statusmsg"),
        },
    }
}

# --- django-q2: database (ORM) broker, so a job needs nothing but the database.
Q_CLUSTER = {
    "name": "statusmsg",
    "orm": "default",
    "workers": _statusmsg["MAX_CONCURRENT_TASKS"],
    "timeout": _statusmsg["TASK_TIMEOUT"],
    # retry must exceed the longest timeout, or the broker hands a running job out twice.
    "retry": _statusmsg["TASK_TIMEOUT"] + 600,
    "max_attempts": 1,
    "poll": 0.2,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Django Q",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "statusmsg.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "statusmsg API",
    "DESCRIPTION": "Background jobs, their live progress, and the notification inbox.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django_q": {"level": "WARNING"}},
}
