"""Settings for statusmsg, read from the environment (see README for every variable)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from statusmsg.conf import DEFAULTS as STATUSMSG_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Safe by default: production settings unless development is asked for, by DEBUG=1 or by
# STATUSMSG_DEV=1 (what `make run` sets for everything it starts).
DEVELOPMENT = env.bool("STATUSMSG_DEV", default=False)
DEBUG = env.bool("DEBUG", default=DEVELOPMENT)

# A fixed development key keeps `make run` zero-config; it is refused unless DEBUG is on, so a
# careless deployment fails at start instead of signing sessions with a key from git.
DEV_SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "Set SECRET_KEY to a random value of 50+ characters (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'), or DEBUG=1 / STATUSMSG_DEV=1 for development."
    )
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
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc from our own static files
    "django_q",
    "channels",
    "jobs",
    "articles",
    "operations",
    "notifications",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every log line of a request carries its id (and the X-Request-ID answer header).
    "statusmsg.log_context.RequestContextMiddleware",
    # Right after SecurityMiddleware, as whitenoise asks: static files skip everything below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "statusmsg.middleware.json_depth_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login's answer into a 429.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.csp",
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
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (collectstatic), so whitenoise lets browsers cache them for a year.
    "staticfiles": {"BACKEND": "statusmsg.storage.StaticFilesStorage"},
}
if DEBUG:
    # Development serves straight from static/ (no collectstatic, edits show on reload).
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

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

# --- Redis: the channel layer, and the cache below.
# No REDIS_URL means the embedded Redis that `make run` starts under var/.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_SOCKET}")
# Short timeouts: a Redis that is down or hanging must not stall a job's pushes. Keepalive
# (TCP only: redis-py refuses the option on a unix socket, make run's embedded Redis) notices a
# connection that died silently (a NAT, a failover).
def channel_layer_host(url: str) -> dict:
    """Return the channel layer's connection options for the Redis at url."""
    host = {"address": url, "socket_connect_timeout": 1, "socket_timeout": 3}
    if url.startswith(("redis://", "rediss://")):
        host["socket_keepalive"] = True
    return host


CHANNEL_LAYERS = {
    "default": {
        # Pub/sub: one PUBLISH per group send, fanned out inside each daphne process; about
        # 6x the group sends/s of RedisChannelLayer here (bench/channel_layers.py). Its
        # at-most-once delivery is fine: clients catch up from the snapshot + seq.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [channel_layer_host(REDIS_URL)],
            "prefix": env("CHANNEL_PREFIX", default="statusmsg"),
        },
    }
}

# --- django-q2: the database (ORM) broker by default, so a job needs nothing but the database;
# STATUSMSG_QUEUE_BROKER=redis takes django-q2's Redis broker instead (lower start latency,
# see README "Deploy"). Clusters beat into the cache below, where /readyz looks for them.
QUEUE_BROKER = _statusmsg["QUEUE_BROKER"]
if QUEUE_BROKER not in ("orm", "redis"):
    raise ImproperlyConfigured(f"STATUSMSG_QUEUE_BROKER must be orm or redis, not {QUEUE_BROKER!r}.")
Q_CLUSTER = {
    "name": "statusmsg",
    **({"orm": "default"} if QUEUE_BROKER == "orm" else {"redis": REDIS_URL}),
    "workers": _statusmsg["MAX_CONCURRENT_TASKS"],
    "timeout": _statusmsg["TASK_TIMEOUT"],
    # retry must exceed the longest timeout, or the broker hands a running job out twice.
    "retry": _statusmsg["TASK_TIMEOUT"] + 600,
    "max_attempts": 1,
    # The ORM broker's poll dominates start latency: 0.1 s gave create -> running p50 87 ms
    # (0.2 s: 175 ms) for 49 ms/s of idle CPU (bench/job_latency.py); use the Redis broker for ~10 ms.
    "poll": 0.1,
    # Prefetch one job at most beyond the running ones: a busy cluster must not hoard the queue
    # while another cluster's workers sit idle (django-q2's default is workers squared).
    "queue_limit": 1,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Django Q",
}

# --- Cache: the API throttles' counters, shared by every process through Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Short timeouts: a Redis that hangs must not hang requests (the throttles fail open).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default=env("CHANNEL_PREFIX", default="statusmsg")),
    }
}

REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate: Token` makes an anonymous call a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "statusmsg.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: no endpoint takes a form or a file, and the bounded parser cannot be crashed.
    "DEFAULT_PARSER_CLASSES": ["statusmsg.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "statusmsg.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "statusmsg.throttling.AnonRateThrottle",
        "statusmsg.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON_RATE", default="60/min"),
        "user": env("THROTTLE_USER_RATE", default="1200/min"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "statusmsg.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "statusmsg API",
    "DESCRIPTION": "Background jobs, their live progress, and the notification inbox.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components, which api_schema closes to unknown keys.
    "COMPONENT_SPLIT_REQUEST": True,
    # Offline docs: Swagger UI and Redoc from drf-spectacular-sidecar's static files, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "statusmsg.api_schema.document_error_responses",
    ],
}

# --- Failed logins (django-axes): 10 failures for one username, or from one address, lock
# that username or address out for AXES_COOLOFF_MINUTES with a 429; an admin lifts it under
# Axes > Access attempts (or `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "statusmsg.lockout.lockout_response"

# --- HTTPS and browser hardening. Production behind TLS sets the SECURE_* variables (README);
# the defaults suit plain-HTTP development and tests.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# No inline script runs unless it carries the request's nonce; style attributes stay allowed
# (the progress bars' widths). connect-src 'self' covers the same-origin ws:/wss: sockets.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# LOG_FORMAT=json: one JSON object per line, with the request id, the user and the task id.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "statusmsg.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django_q": {"level": "WARNING"}},
}
