"""The kinds of job the workers know, each a dotted path to its function and a timeout."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class JobKind:
    name: str
    function_path: str
    timeout: int  # seconds the queue lets one run take

    @property
    def function(self) -> Callable:
        return import_string(self.function_path)

    @property
    def effective_timeout(self) -> int:
        # Never above the cluster-wide timeout: the broker's retry is sized from it.
        return min(self.timeout, settings.STATUSMSG["TASK_TIMEOUT"])


JOB_KINDS = {
    kind.name: kind
    for kind in [
        JobKind("bulk_save", "jobs.bulk_save.run_bulk_save_task", timeout=900),
        JobKind("bulk_analysis", "jobs.analysis.run_bulk_analysis_task", timeout=3600),
        JobKind("auto_ingest", "jobs.auto_ingest.run_auto_ingest_task", timeout=3600),
        JobKind("keyword_check", "jobs.keyword_checks.run_keyword_check_task", timeout=1800),
    ]
}


def extra_job_kinds() -> dict[str, JobKind]:
    """Return the kinds that STATUSMSG['EXTRA_JOB_KINDS'] adds ("name=dotted.path,…")."""
    kinds = {}
    for entry in filter(None, (part.strip() for part in settings.STATUSMSG["EXTRA_JOB_KINDS"].split(","))):
        name, _, path = entry.partition("=")
        kinds[name.strip()] = JobKind(name.strip(), path.strip(), timeout=settings.STATUSMSG["TASK_TIMEOUT"])
    return kinds


def get_job_kind(name: str) -> JobKind:
    kinds = {**extra_job_kinds(), **JOB_KINDS}
    try:
        return kinds[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}; known: {', '.join(sorted(kinds))}") from None
