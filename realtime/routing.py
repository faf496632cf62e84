"""WebSocket routes; each works with and without its trailing slash."""

from django.urls import re_path

from .consumers import BulkProcessConsumer, TaskFeedConsumer, TopicConsumer
from .consumers.notifications import NotificationConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/bulk-process/(?P<job_id>[^/]+)/?$", BulkProcessConsumer.as_asgi()),
    re_path(r"^ws/progress/(?P<topic_id>[^/]+)/?$", TopicConsumer.as_asgi()),
    re_path(r"^ws/tasks/?$", TaskFeedConsumer.as_asgi()),
    re_path(r"^ws/notifications/?$", NotificationConsumer.as_asgi()),
]
