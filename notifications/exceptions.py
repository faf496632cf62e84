"""Errors raised by the notification use cases and API, formatted by DRF's handler."""

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError


class NotificationNotFound(APIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No such notification."
    default_code = "notification_not_found"


class InvalidNotification(ValidationError):
    """A notification that cannot be created; detail maps each bad field to its reasons."""

    default_detail = "Invalid notification."
    default_code = "invalid_notification"


class InvalidLimit(ValidationError):
    """A page size outside 1..MAX_LIMIT."""

    default_detail = "Invalid limit."
    default_code = "invalid_limit"
