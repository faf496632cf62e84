"""Errors of the article use cases; plain exceptions, mapped to HTTP in statusmsg.api_errors."""


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
