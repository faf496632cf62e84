"""WebSocket routes (the consumers arrive with the realtime issue)."""

websocket_urlpatterns: list = []
