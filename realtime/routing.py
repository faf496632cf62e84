"""WebSocket routes; each works with and without its trailing slash. Any other path is refused with 4404."""

from django.urls import re_path

from .consumers import BulkProcessConsumer, TaskFeedConsumer, TopicConsumer
from .consumers.guarded import CLOSE_NOT_FOUND, refuse_unopened
from .consumers.notifications import NotificationConsumer


async def unknown_path(scope, receive, send) -> None:
    """Refuse a socket on a path no route serves: accept, close 4404, nothing logged.

    Without it URLRouter raises "No route found" before accept, which daphne logs as a
    crashed application and answers with HTTP 500. A plain ASGI callable, not a consumer:
    it opens no channel-layer subscription and reads nothing.
    """
    await refuse_unopened(receive, send, CLOSE_NOT_FOUND)


websocket_urlpatterns: list = [
    re_path(r"^ws/bulk-process/(?P<job_id>[^/]+)/?$", BulkProcessConsumer.as_asgi()),
    re_path(r"^ws/progress/(?P<topic_id>[^/]+)/?$", TopicConsumer.as_asgi()),
    re_path(r"^ws/tasks/?$", TaskFeedConsumer.as_asgi()),
    re_path(r"^ws/notifications/?$", NotificationConsumer.as_asgi()),
    re_path(r"", unknown_path),  # last: catches every other path
]
