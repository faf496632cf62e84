"""Close a user's sockets (4401) when the credentials they opened with stop being valid.

A socket remembers how it was authenticated: ("session", digest of the session key) or
("token", digest of the DRF token key). Digests, so that no key travels through Redis or
into a log. The receivers below publish {"type": "auth.revoked", "kind", "key"} to the
user's auth group, which every socket of theirs joins; each socket closes if the event
names its credential:

- logout: that session's sockets (user_logged_out is sent before the session is flushed,
  so its key is still known);
- password change: every session socket of the user (their session auth hash is stale;
  the tab that changed it reconnects with its cycled session);
- token deleted: that token's sockets (DRF's token is independent of the password);
- user deactivated or deleted: every socket of the user.

Delivery is at most once, like every push (the publisher retries it after an outage, if its
process lives on); so when the channel layer comes back after an outage, each socket checks
its credentials again (still_valid) before it re-sends its state.
"""

import hashlib
import logging
from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from . import publisher
from .auth import user_for_token

logger = logging.getLogger(__name__)

SESSION, TOKEN, ALL = "session", "token", "all"


def digest(key: str | None) -> str | None:
    """Return the name under which a session or token key is compared (never the key itself)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32] if key else None


def socket_credential(scope) -> tuple[str, str | None]:
    """Return (kind, digest) of the credential a socket's handshake was authenticated with."""
    token = scope.get("auth_token")
    if token:
        return TOKEN, digest(token)
    session = scope.get("session")
    # channels' SessionMiddleware: a SessionStore built from the cookie; session_key reads no row.
    return SESSION, digest(getattr(session, "session_key", None) if session is not None else None)


def revokes(event: dict, credential: tuple[str, str | None]) -> bool:
    """True when an auth.revoked event names the credential (kind, digest)."""
    kind, key = credential
    return event["kind"] == ALL or (event["kind"] == kind and event.get("key") in (None, key))


async def still_valid(scope, user_id) -> bool:
    """Check again, in the database, that the credentials a socket opened with still admit user_id."""
    token = scope.get("auth_token")
    if token:
        user = await user_for_token(token)
    else:
        session_key = getattr(scope.get("session"), "session_key", None)
        if not session_key:
            return True  # authenticated some other way (a test's scope): nothing to check
        # A fresh store: the handshake's one keeps what it read then.
        fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = await get_user({"session": fresh})
    return user.is_authenticated and user.pk == user_id


def publish_revoked(user_id, kind: str, key: str | None = None) -> None:
    """Tell every socket of user_id that credentials of kind (key: that one only; None: all) are revoked."""
    logger.info("revoking sockets user=%s kind=%s", user_id, kind)
    publisher.publish_auth_event(user_id, {"type": "auth.revoked", "kind": kind, "key": digest(key)})


def _logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        publish_revoked(user.pk, SESSION, session_key)


def _token_deleted(sender, instance, **kwargs) -> None:
    # After commit: a rolled-back delete revokes nothing. post_delete also fires for each
    # token of a queryset or cascade delete (Django fetches them once a receiver exists).
    user_id, key = instance.user_id, instance.key
    transaction.on_commit(lambda: publish_revoked(user_id, TOKEN, key))


def _user_saving(sender, instance, raw=False, **kwargs) -> None:
    """Remember whether this save takes staff rights away: the sockets opened with them must close."""
    if raw or instance.pk is None:
        return
    was = sender._default_manager.filter(pk=instance.pk).values("is_staff", "is_superuser").first()
    instance._statusmsg_lost_rights = bool(was) and (
        (was["is_staff"] and not instance.is_staff) or (was["is_superuser"] and not instance.is_superuser))


def _user_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created or raw:  # raw: loaddata, which changes no one's credentials in use
        return
    user_id = instance.pk
    if not instance.is_active or getattr(instance, "_statusmsg_lost_rights", False):
        # Deactivated, or no longer staff: a staff socket would keep relaying everyone's jobs.
        transaction.on_commit(lambda: publish_revoked(user_id, ALL))
    elif getattr(instance, "_password", None) is not None:
        # set_password() keeps the raw password in _password until save() has sent
        # post_save, so this is a password change (not any save of a user row).
        transaction.on_commit(lambda: publish_revoked(user_id, SESSION))


def _user_deleted(sender, instance, **kwargs) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: publish_revoked(user_id, ALL))


def connect_receivers() -> None:
    """Connect the receivers above (RealtimeConfig.ready); idempotent through dispatch_uid."""
    from rest_framework.authtoken.models import Token, TokenProxy

    user_model = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="realtime.revocation.logged_out")
    # The admin deletes tokens as TokenProxy rows, and a signal's sender is the instance's class.
    for token_model in (Token, TokenProxy):
        post_delete.connect(_token_deleted, sender=token_model,
                            dispatch_uid=f"realtime.revocation.{token_model.__name__}_deleted")
    pre_save.connect(_user_saving, sender=user_model, dispatch_uid="realtime.revocation.user_saving")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="realtime.revocation.user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="realtime.revocation.user_deleted")
