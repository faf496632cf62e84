"""API error handling shared by every app: the exception handler and request-body validation."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django would answer with an HTML page; API clients get the reason as JSON.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = ValidationError({"non_field_errors": [f"Request body too large: the limit is {limit} bytes."]})
    return drf_exception_handler(exc, context)


def validated(serializer_class, data) -> dict:
    """Return data validated by serializer_class; a 400 with field errors otherwise.

    A body that is not a JSON object (a list, a string) is a 400 too, not a 500.
    """
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
