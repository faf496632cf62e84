"""Refuse too-deep JSON bodies before any view sees them, DRF's or a plain Django view."""

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.decorators import sync_and_async_middleware

from statusmsg.parsers import MAX_JSON_DEPTH, nesting_exceeds


def _too_deep(request) -> JsonResponse | None:
    content_type = request.content_type or ""
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return None
    try:
        body = request.body  # already received in full by daphne; no network wait here
    except RequestDataTooBig:
        return None  # the view answers it (a 413 from the API's exception handler)
    if nesting_exceeds(body):
        return JsonResponse({"detail": f"JSON nested deeper than {MAX_JSON_DEPTH} levels."}, status=400)
    return None


@sync_and_async_middleware
def json_depth_middleware(get_response):
    """Answer a JSON body nested deeper than MAX_JSON_DEPTH with a 400, for every view.

    DRF views are covered by BoundedJSONParser too; this covers a plain view that calls
    json.loads(request.body), whose recursion 50,000 '[' would exhaust.
    """
    if iscoroutinefunction(get_response):
        async def middleware(request):
            return _too_deep(request) or await get_response(request)
    else:
        def middleware(request):
            return _too_deep(request) or get_response(request)
    return middleware
