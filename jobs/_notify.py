"""Send a workload's notification through the notifications app, never failing the job."""

import logging

logger = logging.getLogger(__name__)


def notify(recipient, notification_type: str, title: str, message: str, link: str | None = None) -> None:
    """Create a notification for recipient (a user, a username, or None for everyone)."""
    try:
        from notifications.services import create_notification
    except ImportError:
        logger.warning("notifications app has no create_notification yet; dropped type=%s title=%s",
                       notification_type, title)
        return
    try:
        create_notification(recipient, notification_type, title, message, link=link)
    except Exception:  # a failure of the notice path never fails the job that finished its work
        logger.exception("notification failed type=%s", notification_type)
