"""ASGI entry point: HTTP through Django, WebSockets through the realtime routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings

if settings.DEBUG:
    # daphne serves no static files itself; in development Django's handler does.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from realtime.auth import TokenAuthMiddleware
from realtime.daphne_compat import allow_endpoint_close_codes
from realtime.layer_watch import watch_layer_connections
from realtime.origin import SameOriginValidator
from realtime.routing import websocket_urlpatterns

allow_endpoint_close_codes()  # 1008 for floods, 1009 for big frames (by daphne itself), 1012
watch_layer_connections()  # sockets re-read their snapshots after a Redis outage
websocket_routes = URLRouter(websocket_urlpatterns)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # A handshake with `Authorization: Token <key>` (scripts, the watcher) is authenticated
        # by that token; every other one by the session, behind the Origin check (scheme,
        # host and port).
        "websocket": TokenAuthMiddleware(
            websocket_routes,
            session_app=SameOriginValidator(AuthMiddlewareStack(websocket_routes)),
        ),
    }
)
