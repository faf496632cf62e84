"""WebSocket routes (the consumers arrive with the realtime issue)."""

from django.urls import re_path

from .consumers.notifications import NotificationConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/notifications/?$", NotificationConsumer.as_asgi()),
]
