"""DRF's exception handler, plus a JSON 400 for request bodies over the size limit."""

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
