"""WebSocket handshake auth by DRF token (`Authorization: Token <key>`), for scripts and the watcher.

A browser cannot put an Authorization header on a WebSocket handshake, so a handshake that
carries a Token is no cross-site hijack: it needs no Origin (scripts send none), though a
foreign Origin is still refused (origin.origin_allowed: scheme, host and port). Every other
handshake goes to the session stack (SameOriginValidator + AuthMiddlewareStack). A wrong or
inactive key is anonymous, never a fallback to the session cookie. The key goes into the
scope as "auth_token", so that the socket can be closed when that token is deleted.
"""

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.contrib.auth.models import AnonymousUser

from statusmsg.authentication import is_token_key

from .origin import origin_allowed


@database_sync_to_async
def user_for_token(key: str):
    """Return the active user owning the DRF token key, else AnonymousUser."""
    from rest_framework.authtoken.models import Token

    if not is_token_key(key):  # malformed (a NUL byte would make PostgreSQL raise): nobody
        return AnonymousUser()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def _header(scope, name: bytes) -> bytes | None:
    for header_name, value in scope.get("headers", []):
        if header_name == name:
            return value
    return None


class TokenAuthMiddleware:
    """Authenticate a handshake by its Token header into `inner`; others go to `session_app`."""

    def __init__(self, inner, session_app):
        self.inner = inner
        self.session_app = session_app

    async def __call__(self, scope, receive, send):
        authorization = _header(scope, b"authorization") or b""
        scheme, _, key = authorization.decode("latin1").strip().partition(" ")
        if scheme.lower() != "token":
            return await self.session_app(scope, receive, send)
        if _header(scope, b"origin") is not None and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        key = key.strip()
        user = await user_for_token(key) if key else AnonymousUser()
        return await self.inner({**scope, "user": user, "auth_token": key or None}, receive, send)
