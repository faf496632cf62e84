"""API error handling shared by every app: domain exceptions to HTTP status codes and bodies.

The apps' use cases raise plain exceptions (jobs/, articles/, notifications/ exceptions.py);
this is the one place that chooses their status codes and bodies.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from articles.exceptions import ArticleNotFound, AutoIngestAlreadyRunning, KeywordGroupNotFound, NothingToRetry
from jobs.exceptions import TaskAlreadyFinished, TaskInGroup, TaskNotFound
from notifications.exceptions import InvalidLimit, InvalidNotification, NotificationNotFound
from statusmsg.throttling import AnonRateThrottle

logger = logging.getLogger(__name__)

# Domain exception -> (status, code). The body is {"detail": str(exc), …} as DRF's own errors
# look, or the field errors for the ones that carry `errors`; code names the error in the logs.
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    TaskNotFound: (status.HTTP_404_NOT_FOUND, "task_not_found"),
    TaskAlreadyFinished: (status.HTTP_409_CONFLICT, "task_already_finished"),
    TaskInGroup: (status.HTTP_409_CONFLICT, "task_in_group"),
    AutoIngestAlreadyRunning: (status.HTTP_409_CONFLICT, "auto_ingest_running"),
    KeywordGroupNotFound: (status.HTTP_404_NOT_FOUND, "keyword_group_not_found"),
    ArticleNotFound: (status.HTTP_404_NOT_FOUND, "article_not_found"),
    NothingToRetry: (status.HTTP_409_CONFLICT, "nothing_to_retry"),
    NotificationNotFound: (status.HTTP_404_NOT_FOUND, "notification_not_found"),
    InvalidNotification: (status.HTTP_400_BAD_REQUEST, "invalid_notification"),
    InvalidLimit: (status.HTTP_400_BAD_REQUEST, "invalid_limit"),
}


def exception_handler(exc, context):
    if isinstance(exc, NotAuthenticated):
        exc = _anonymous_throttled(context) or exc
    for exception_class, (status_code, code) in DOMAIN_ERRORS.items():
        if isinstance(exc, exception_class):
            logger.info("api error code=%s status=%s", code, status_code)
            return Response(domain_error_body(exc), status=status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer with an HTML 400 page; API clients get a 413 and the reason as JSON.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": f"Request body too large: the limit is {limit} bytes."},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)


def domain_error_body(exc: Exception) -> dict:
    errors = getattr(exc, "errors", None)
    if errors is not None:
        return errors
    body = {"detail": str(exc)}
    if isinstance(exc, AutoIngestAlreadyRunning):
        body["task_id"] = str(exc.task_id)
    if isinstance(exc, TaskInGroup):
        body["group_id"] = str(exc.group_id)
    return body



def _anonymous_throttled(context) -> Throttled | None:
    """Return Throttled when this anonymous caller is over the anonymous rate, else None.

    DRF checks permissions before throttles, so a call without credentials is refused (401)
    before any throttle counts it; counting the refusals here rate-limits those callers too.
    """
    request, view = context.get("request"), context.get("view")
    if request is None or view is None:
        return None
    throttle = AnonRateThrottle()
    if throttle.allow_request(request, view):
        return None
    return Throttled(wait=throttle.wait())
