"""LOG_FORMAT=json writes one JSON object per line, tagged with the request, user and task it is about."""

import json
import logging

from statusmsg import log_context
from statusmsg.log_format import JsonFormatter


def record(message="task id=%s done", *args, exc_info=None, **extra) -> logging.LogRecord:
    entry = logging.LogRecord("jobs.worker", logging.INFO, __file__, 1, message, args or ("x",), exc_info)
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def test_a_line_is_one_json_object_with_the_bound_task():
    with log_context.bound_task("abc-123"):
        line = JsonFormatter().format(record(attempt=2))
    assert "\n" not in line
    parsed = json.loads(line)
    assert (parsed["level"], parsed["logger"], parsed["message"]) == ("INFO", "jobs.worker", "task id=x done")
    assert (parsed["task_id"], parsed["attempt"]) == ("abc-123", 2)
    assert "request_id" not in parsed


def test_an_exception_stays_inside_its_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        line = JsonFormatter().format(record(exc_info=sys.exc_info()))
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exception"]


def test_requests_get_an_id_that_the_response_echoes_and_logs_carry(rf):
    seen = {}

    def view(request):
        seen["id"] = log_context.request_id.get()
        from django.http import HttpResponse

        return HttpResponse("ok")

    middleware = log_context.RequestContextMiddleware(view)
    response = middleware(rf.get("/"))
    assert response["X-Request-ID"] == seen["id"] and len(seen["id"]) == 32
    assert middleware(rf.get("/", HTTP_X_REQUEST_ID="proxy-42"))["X-Request-ID"] == "proxy-42"
    forged = middleware(rf.get("/", HTTP_X_REQUEST_ID='x" injected'))["X-Request-ID"]
    assert forged != 'x" injected'
    assert log_context.request_id.get() is None  # nothing leaks past the request
