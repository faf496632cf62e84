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
from channels.security.websocket import AllowedHostsOriginValidator

from realtime.auth import TokenAuthMiddleware
from realtime.daphne_compat import allow_endpoint_close_codes
from realtime.routing import websocket_urlpatterns

allow_endpoint_close_codes()  # consumers close floods with 1008 and big frames with 1009
websocket_routes = URLRouter(websocket_urlpatterns)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # A handshake with `Authorization: Token <key>` (scripts, the watcher) is authenticated
        # by that token; every other one by the session, behind the Origin check.
        "websocket": TokenAuthMiddleware(
            websocket_routes,
            session_app=AllowedHostsOriginValidator(AuthMiddlewareStack(websocket_routes)),
        ),
    }
)
