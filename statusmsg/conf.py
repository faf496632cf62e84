"""statusmsg's own options: defaults merged lazily over settings.STATUSMSG, re-read when settings change.

Read an option where it is used, as `app_settings.PROGRESS_INTERVAL` (DRF's api_settings
pattern): nothing is read at import, and tests flip options with the `settings` fixture or
override_settings(STATUSMSG={...}). Every key is overridable from the environment as
STATUSMSG_<KEY> (see settings.py).
"""

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, object] = {
    "PROGRESS_INTERVAL": 0.25,  # seconds between progress row writes
    "HEARTBEAT_INTERVAL": 5.0,  # seconds between worker heartbeats
    "STALE_AFTER": 60.0,  # a running row without a heartbeat this long is reaped
    "MAX_CONCURRENT_TASKS": 3,
    "MAX_BULK_ITEMS": 1000,
    "TASK_TIMEOUT": 3600,  # seconds; per-kind overrides live in the task kind registry
    "CLEANUP_BATCH_SIZE": 2000,
    "ADMIN_PASSWORD": "",
    # More task kinds, "name=dotted.path.to.function,…": for plugins, and for the tests'
    # own jobs inside real worker processes.
    "EXTRA_JOB_KINDS": "",
    # Articles: guarded fetching, the analysis queue, the analyzers, auto-ingest.
    "FETCH_ALLOW_HOSTS": "",  # comma-separated host or host:port let through the SSRF guard
    "FETCH_TIMEOUT": 15.0,  # seconds per fetch, connect to last byte
    "FETCH_MAX_BYTES": 5 * 1024 * 1024,
    "FETCH_MAX_REDIRECTS": 5,
    "ANALYSIS_MAX_CONCURRENT": 3,
    "ANALYSIS_QUEUE_SIZE": 100,
    "ANALYSIS_ITEM_TIMEOUT": 60.0,
    "ANALYSIS_MODEL": "local",  # the analyzer auto-ingest uses: "local" or one of LLM_MODELS
    "LLM_BASE_URL": "",  # an OpenAI-compatible API, e.g. https://api.openai.com/v1
    "LLM_MODELS": "",  # comma-separated model names it serves, accepted as model_name
    "LLM_API_KEY": "",
    "LLM_TIMEOUT": 60.0,
    "AUTO_INGEST_EVERY_MINUTES": 60,
    "PUSH_TIMEOUT": 0.5,  # seconds one realtime push may take before it is dropped
    "PUSH_BACKOFF": 5.0,  # seconds pushes are skipped after a failed one (Redis down)
    # Sockets: open sockets one user may hold (across every daphne process), and the messages
    # per second one user may send over all of them together.
    "MAX_SOCKETS_PER_USER": 50,
    "USER_MESSAGE_RATE": 40.0,
    # Task groups: a task of a kind that splits (see jobs.registry) with more items than
    # CHUNK_SIZE runs as chunks of that many on any worker; a chunk whose worker was lost runs
    # again until it has run CHUNK_ATTEMPTS times, then its items count as failed.
    "CHUNK_SIZE": 50,
    "CHUNK_ATTEMPTS": 2,
    # How often the reaper runs outside a cluster (make run's `reap_tasks --loop`).
    "REAP_INTERVAL": 15.0,
    # Who may read /metrics besides staff: a bearer token, and client addresses (comma-separated
    # IPs or networks such as 10.0.0.0/8).
    "METRICS_TOKEN": "",
    "METRICS_ALLOW": "",
    # django-q2's broker: "orm" (the database) or "redis" (REDIS_URL); read once, at start.
    "QUEUE_BROKER": "orm",
    # Seconds between a web process's reports of its sockets (0: none, as in the fast tests).
    "PROCESS_REPORT_EVERY": 5.0,
}


class AppSettings:
    """Attribute access to statusmsg's options; an unknown name is an AttributeError, not a default."""

    def __init__(self, defaults: dict[str, object]):
        self.defaults = defaults
        self._cached: set[str] = set()

    def __getattr__(self, key: str):
        if key not in self.defaults:
            raise AttributeError(f"Unknown statusmsg setting {key!r}; known: {', '.join(sorted(self.defaults))}")
        value = getattr(settings, "STATUSMSG", {}).get(key, self.defaults[key])
        setattr(self, key, value)  # cached until the next settings change
        self._cached.add(key)
        return value

    def reload(self) -> None:
        for key in self._cached:
            delattr(self, key)
        self._cached.clear()


app_settings = AppSettings(DEFAULTS)


def _reload_on_change(*, setting: str, **kwargs) -> None:
    if setting == "STATUSMSG":
        app_settings.reload()


setting_changed.connect(_reload_on_change)
