"""Request-body validation shared by every app's API views: known fields only, strict types."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

SHOWN_KEY_LENGTH = 100  # an unknown key is named in the error, cut short: it may be megabytes


def unknown_keys_error(data: Mapping, known) -> dict | None:
    """Return {key: ["Unknown field."]} for each key of data not in known, or None."""
    unknown = [key for key in data if key not in known]
    if not unknown:
        return None
    return {str(key)[:SHOWN_KEY_LENGTH]: ["Unknown field."] for key in unknown}


def validated(serializer_class, data) -> dict:
    """Return data validated by serializer_class; a 400 with field errors otherwise.

    A body that is not a JSON object (a list, a string, null) is a 400, and so is a key the
    serializer does not know: a typo must not be silently ignored, nor junk stored.
    """
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    serializer = serializer_class(data=data)
    unknown = unknown_keys_error(data, serializer.fields)
    if unknown:
        raise ValidationError(unknown)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class KnownFieldsOnly:
    """Serializer mixin: refuse keys that are not fields (for objects nested in a request)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = unknown_keys_error(data, self.fields)
            if unknown:
                raise ValidationError(unknown)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON integer: true, "5" and 5.0 are refused, not coerced."""

    default_error_messages = {"invalid": "A JSON integer is required (not a boolean, string or float)."}

    def to_internal_value(self, data):
        # bool is a subclass of int: `false` would otherwise read as 0.
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)
