"""The kinds of task the workers know: each a dotted path to its job function, a timeout, and how its outcome is told.

Apps register their kinds when Django starts (`register` from their AppConfig.ready), so the
engine reaches the job functions only through these dotted paths and never imports the apps
that own them. STATUSMSG["EXTRA_JOB_KINDS"] adds kinds from the environment (plugins, tests).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string

from statusmsg.conf import app_settings


@dataclass(frozen=True)
class TaskKind:
    name: str
    function_path: str
    timeout: int  # seconds the queue lets one run take
    # Dotted path of `describe(task) -> OutcomeNotice | None`, telling how the task's ending
    # is announced to people; None for the engine's default (see jobs.outcomes).
    outcome_path: str | None = None
    # Dotted path of `results(task) -> dict | None`: the context of the template named by its
    # "template" key, which shows a finished task's result as people read it; None: raw JSON only.
    results_path: str | None = None
    # The parameter holding the list a big task is split by into a group of chunks (jobs.groups);
    # None: tasks of this kind always run whole.
    chunk_param: str | None = None
    # Dotted path of `merge(chunks: list[jobs.groups.Chunk]) -> dict`, the group's result from its
    # chunks' endings; it counts items that failed under the key "failed". None: the engine's
    # default (numbers added, lists joined, lost chunks' items counted as failed).
    merge_path: str | None = None

    @property
    def function(self) -> Callable:
        return import_string(self.function_path)

    @property
    def effective_timeout(self) -> int:
        # Never above the cluster-wide timeout: the broker's retry is sized from it.
        return min(self.timeout, app_settings.TASK_TIMEOUT)


_registered: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> None:
    """Make kind known to create_task, the worker and the reaper (idempotent for an equal kind)."""
    known = _registered.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"task kind {kind.name!r} is already registered as {known}")
    _registered[kind.name] = kind


def extra_task_kinds() -> dict[str, TaskKind]:
    """Return the kinds that STATUSMSG['EXTRA_JOB_KINDS'] adds ("name=dotted.path,…").

    "name=dotted.path:param" makes a kind that splits into a group by its list `param` (chunk_param).
    """
    kinds = {}
    for entry in filter(None, (part.strip() for part in app_settings.EXTRA_JOB_KINDS.split(","))):
        name, _, target = entry.partition("=")
        path, _, chunk_param = target.partition(":")
        kinds[name.strip()] = TaskKind(name.strip(), path.strip(), timeout=app_settings.TASK_TIMEOUT,
                                       chunk_param=chunk_param.strip() or None)
    return kinds


def get_task_kind(name: str) -> TaskKind:
    """Return the registered kind called name; LookupError naming the known ones otherwise."""
    kinds = {**extra_task_kinds(), **_registered}
    try:
        return kinds[name]
    except KeyError:
        raise LookupError(f"unknown task kind {name!r}; known: {', '.join(sorted(kinds))}") from None
