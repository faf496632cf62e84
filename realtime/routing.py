"""WebSocket routes (the consumers arrive with the realtime issue)."""

from django.urls import path

from .consumers.notifications import NotificationConsumer

websocket_urlpatterns: list = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
]
