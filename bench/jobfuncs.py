"""No-op job functions for bench/job_throughput.py and bench/job_latency.py."""


def noop_job(progress_callback, **params) -> None:
    """Do nothing: a job kind (STATUSMSG_EXTRA_JOB_KINDS=bench_noop=bench.jobfuncs.noop_job)."""


def bare_noop() -> None:
    """Do nothing: a bare django-q2 task, enqueued with async_task."""
