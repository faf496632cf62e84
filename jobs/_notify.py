"""Send a workload's notification through the notifications app, never failing the job."""

import logging

from notifications.services import create_notification

logger = logging.getLogger(__name__)


def notify(recipient, notification_type: str, title: str, message: str, link: str | None = None) -> None:
    """Create a notification for recipient (a user, a username, or None for everyone)."""
    try:
        create_notification(recipient, notification_type, title, message, link=link)
    except Exception:  # the job's work is done and saved; a lost notice must not fail it
        logger.exception("notification failed type=%s", notification_type)
