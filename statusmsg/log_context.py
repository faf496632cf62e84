"""What a log line is about: the request, the user and the task, carried in context variables.

The request middleware and the worker bind them; the JSON formatter (statusmsg.log_format)
writes them into every line logged meanwhile, whichever module logs it.
"""

import contextlib
import contextvars
import uuid

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id: contextvars.ContextVar[object] = contextvars.ContextVar("user_id", default=None)
task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)


@contextlib.contextmanager
def bound_task(value) -> None:
    """Tag every line logged inside with the task's id (the worker runs each job inside one)."""
    token = task_id.set(str(value))
    try:
        yield
    finally:
        task_id.reset(token)


class RequestContextMiddleware:
    """Give each request an id (or keep the proxy's X-Request-ID) and echo it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        # A client-chosen id is kept only when it is short and plain, so it cannot forge log lines.
        rid = incoming if 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        rid_token = request_id.set(rid)
        user_token = user_id.set(None)
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                user_id.set(user.pk)
            response["X-Request-ID"] = rid
            return response
        finally:
            request_id.reset(rid_token)
            user_id.reset(user_token)
