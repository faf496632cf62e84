"""Rules for what a notification may hold, shared by the use cases and the API serializers."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

MAX_LIMIT = 200
MAX_LINK_LENGTH = 500
_TYPE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")


def validate_type(value: str) -> str:
    if not isinstance(value, str) or not _TYPE.match(value):
        raise ValidationError("Use 1 to 50 letters, digits, '_', '.' or '-' (e.g. task_complete).")
    return value


def validate_link(value: str | None) -> str:
    """Return the link if it is a relative path or an http(s) URL; "" for none.

    Anything else (javascript:, data:, //host, backslashes) could send the user off-site
    or run script when the inbox renders it as an href.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValidationError("The link must be a string.")
    if len(value) > MAX_LINK_LENGTH:
        raise ValidationError(f"The link must be at most {MAX_LINK_LENGTH} characters.")
    if any(ord(char) < 33 or char == "\\" for char in value):
        raise ValidationError("The link must not contain spaces, control characters or backslashes.")
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return value
    if not parts.scheme and not parts.netloc and not value.startswith("//"):
        return value
    raise ValidationError("The link must be a relative path (e.g. /tasks/1/) or an http(s) URL.")
