"""Errors raised by the jobs use cases and by running jobs."""

from rest_framework import status
from rest_framework.exceptions import APIException


class TaskNotFound(APIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No such task."
    default_code = "task_not_found"


class TaskAlreadyFinished(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The task has already finished."
    default_code = "task_already_finished"


class JobCancelled(Exception):
    """Raised inside a running job when its row asks it to stop.

    A job may set `partial_result` before re-raising, so what it did so far is kept.
    """

    def __init__(self, message: str = "Cancelled", partial_result=None):
        super().__init__(message)
        self.partial_result = partial_result
