"""The Origin check of WebSocket handshakes: scheme, host and port, as Django's CSRF check compares them.

Channels' AllowedHostsOriginValidator compares host names only, so any other local app
(`http://127.0.0.1:9999`) passes for a site on :8000. Here an Origin passes when it is
this request's own origin (scheme from the scope or SECURE_PROXY_SSL_HEADER, Host checked
against ALLOWED_HOSTS, default ports filled in) or is listed in CSRF_TRUSTED_ORIGINS
(exactly, or as `https://*.example.com`), which is what CsrfViewMiddleware accepts.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) with the default port filled in, or None if it is no origin."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.username:
        return None
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]


def header(scope, name: bytes) -> str | None:
    """Return the one value of a handshake header; None when it is absent or repeated."""
    values = [value for key, value in scope.get("headers", []) if key == name]
    return values[0].decode("latin1") if len(values) == 1 else None


def _request_scheme(scope) -> str:
    # daphne's scope has no "scheme" key (daphne/ws_protocol.py); other servers may set one.
    if scope.get("scheme") in ("wss", "https"):
        return "https"
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)  # e.g. ("HTTP_X_FORWARDED_PROTO", "https")
    if proxy:
        name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = header(scope, name)
        if value is not None and value.split(",")[0].strip() == proxy[1]:
            return "https"
    return "http"


def origin_allowed(scope) -> bool:
    """True when the handshake's Origin is its own origin or a trusted one; a missing, repeated or null one fails."""
    origin, host = header(scope, b"origin"), header(scope, b"host")
    if origin is None or host is None:
        return False
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if not domain or not validate_host(domain, allowed_hosts):
        return False
    parsed = urlsplit(origin)
    mine = _origin(parsed.scheme, parsed.netloc)
    if mine is not None and mine == _origin(_request_scheme(scope), host):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted_parts = urlsplit(trusted)
        if "*" in trusted:
            if trusted_parts.scheme == parsed.scheme and is_same_domain(parsed.netloc,
                                                                        trusted_parts.netloc.lstrip("*")):
                return True
        elif mine is not None and mine == _origin(trusted_parts.scheme, trusted_parts.netloc):
            return True
    return False


class SameOriginValidator:
    """Pass a handshake on to application only from an allowed Origin; deny it (HTTP 403) otherwise."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
