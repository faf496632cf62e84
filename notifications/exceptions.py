"""Errors of the notification use cases; plain exceptions, mapped to HTTP in statusmsg.api_errors."""


class NotificationError(Exception):
    """Base of the errors the notification use cases raise."""


class NotificationNotFound(NotificationError):
    """No such notification, or not one the caller may see."""

    def __init__(self, message: str = "No such notification."):
        super().__init__(message)


class InvalidNotification(NotificationError):
    """A notification that cannot be created; errors maps each bad field to its reasons."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Invalid notification.")
        self.errors = errors


class InvalidLimit(NotificationError):
    """A page size outside 1..MAX_LIMIT; errors maps "limit" to the reason."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Invalid limit.")
        self.errors = errors
