"""Errors of the article use cases; plain exceptions, mapped to HTTP in statusmsg.api_errors."""

from jobs.exceptions import JobFailed


class ArticlesError(Exception):
    """Base of the errors the article use cases raise."""


class AutoIngestAlreadyRunning(ArticlesError):
    """An auto-ingest run is pending or running; task_id names it."""

    def __init__(self, task_id):
        super().__init__("Auto-ingest is already running.")
        self.task_id = task_id


class KeywordGroupNotFound(ArticlesError):
    """No such keyword group, or someone else's (the two look alike on purpose)."""

    def __init__(self, message: str = "No such keyword group."):
        super().__init__(message)


class ArticleNotFound(ArticlesError):
    """No article with that id (malformed ids included)."""

    def __init__(self, message: str = "No such article."):
        super().__init__(message)


class NothingToRetry(ArticlesError):
    """The task has no failed URLs to analyze again (or is not a finished bulk analysis)."""

    def __init__(self, message: str = "Nothing failed, so there is nothing to retry."):
        super().__init__(message)


class AllItemsFailed(ArticlesError, JobFailed):
    """Every item of a bulk job failed: the job ends failed, and keeps what it recorded."""
