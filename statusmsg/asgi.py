"""ASGI entry point: HTTP through Django, WebSockets through the realtime routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
# A web process holds no database connection between requests (unless CONN_MAX_AGE says
# otherwise): under ASGI each request may run on another thread, and persistent connections
# piled up per thread until PostgreSQL refused clients. The budget is then one connection
# per request in flight (README "Deploy").
os.environ.setdefault("CONN_MAX_AGE", "0")
django_asgi_app = get_asgi_application()

from django.conf import settings

if settings.DEBUG:
    # daphne serves no static files itself; in development Django's handler does.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import re_path

from operations.consumers import SystemStatusConsumer
from operations.process_stats import start_reporting
from realtime.auth import TokenAuthMiddleware
from realtime.connection_stats import stats as connection_stats
from realtime.daphne_compat import allow_endpoint_close_codes
from realtime.layer_watch import watch_layer_connections
from realtime.origin import SameOriginValidator
from realtime.routing import websocket_urlpatterns
from statusmsg.conf import app_settings

allow_endpoint_close_codes()  # 1008 for floods, 1009 for big frames (by daphne itself), 1012
watch_layer_connections()  # sockets re-read their snapshots after a Redis outage
if app_settings.PROCESS_REPORT_EVERY > 0:
    # This process's sockets and file descriptors, for /api/system/status and /system/.
    start_reporting("web", connection_stats.snapshot, every=app_settings.PROCESS_REPORT_EVERY)
# The staff system page's socket comes first: realtime's own routes end with a catch-all 4404.
websocket_routes = URLRouter([re_path(r"^ws/system/?$", SystemStatusConsumer.as_asgi()), *websocket_urlpatterns])

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
