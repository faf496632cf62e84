"""The kinds of job the workers know, each a dotted path to its function and a timeout."""

from dataclasses import dataclass
from typing import Callable

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


def get_job_kind(name: str) -> JobKind:
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}; known: {', '.join(sorted(JOB_KINDS))}") from None
