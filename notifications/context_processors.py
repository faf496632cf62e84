"""Put the user's unread count in every template, so the bell is right before its socket connects."""

from django.utils.functional import SimpleLazyObject

from . import queries


def unread_notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: only pages that render the bell pay for the query.
    return {"notification_unread_count": SimpleLazyObject(lambda: queries.get_unread_count(user))}
