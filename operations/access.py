"""Who may read /metrics: staff, a holder of STATUSMSG_METRICS_TOKEN, or an address in STATUSMSG_METRICS_ALLOW."""

import hmac
import ipaddress

from statusmsg.conf import app_settings


def may_read_metrics(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = app_settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared as bytes: compare_digest refuses a str that is not ASCII (a 500, not a 403).
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), token.encode()):
        return True
    return client_allowed(request.META.get("REMOTE_ADDR", ""), app_settings.METRICS_ALLOW)


def client_allowed(address: str, allow: str) -> bool:
    """Return whether address lies in one of the comma-separated IPs or networks of allow."""
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in filter(None, (part.strip() for part in allow.split(","))):
        try:
            if client in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a typo in the setting allows nobody, rather than failing every scrape
    return False
