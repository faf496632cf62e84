"""Errors of the jobs use cases and of running jobs; plain exceptions, mapped to HTTP in statusmsg.api_errors."""


class TaskError(Exception):
    """Base of the errors the task use cases raise."""


class TaskNotFound(TaskError):
    """No such task, or not one the caller may see (the two look alike on purpose)."""

    def __init__(self, message: str = "No such task."):
        super().__init__(message)


class TaskAlreadyFinished(TaskError):
    """The task has ended; it can no longer be cancelled."""

    def __init__(self, message: str = "The task has already finished."):
        super().__init__(message)


class TaskInGroup(TaskError):
    """The task is one chunk of a group: it is cancelled with its group, never alone."""

    def __init__(self, message: str, group_id):
        super().__init__(message)
        self.group_id = group_id


class JobCancelled(Exception):
    """Raised inside a running job when its row asks it to stop.

    A job may set `partial_result` before re-raising, so what it did so far is kept.
    """

    def __init__(self, message: str = "Cancelled", partial_result=None):
        super().__init__(message)
        self.partial_result = partial_result


class JobFailed(Exception):
    """Raised by a job that ran to its end but failed as a whole (e.g. every item failed).

    The row ends failed with str(exc) as its error, as the user should read it, and keeps
    partial_result as its result.
    """

    def __init__(self, message: str, partial_result=None):
        super().__init__(message)
        self.partial_result = partial_result
