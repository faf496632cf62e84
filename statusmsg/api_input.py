"""Request-body validation shared by every app's API views: known fields only, strict types.

DRF coerces generously (a number into a CharField, "true" into a BooleanField, 1.0 into an
IntegerField); a JSON API that says `string` in its schema should refuse anything else, so the
JSON types are checked before the fields see the values.
"""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

SHOWN_KEY_LENGTH = 100  # an unknown key is named in the error, cut short: it may be megabytes

# Field class -> (JSON type(s) it takes, the name in the error). Lists, dicts and nested
# serializers are strict in DRF already; their items are checked through the child field.
_JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "boolean"),
    (serializers.IntegerField, (int,), "integer"),
    (serializers.FloatField, (int, float), "number"),
    (serializers.ChoiceField, (str,), "string"),
    (serializers.CharField, (str,), "string"),
    (serializers.DateTimeField, (str,), "string"),
    (serializers.UUIDField, (str,), "string"),
]


def _type_error(field, value) -> str | None:
    if value is None:
        return None  # allow_null is the field's own business
    for field_class, json_types, name in _JSON_TYPES:
        if isinstance(field, field_class):
            # bool is a subclass of int: `true` is not an integer here.
            if not isinstance(value, json_types) or (isinstance(value, bool) and bool not in json_types):
                return f"Expected a JSON {name}."
            return None
    return None


def type_errors(fields, data: Mapping) -> dict:
    """Return {field: [message]} for each value in data whose JSON type its field does not take."""
    errors = {}
    for name, field in fields.items():
        if name not in data or field.read_only:
            continue
        value = data[name]
        if isinstance(field, serializers.ListField):
            child_errors = {str(index): [text] for index, item in enumerate(value if isinstance(value, list) else [])
                            if (text := _type_error(field.child, item))}
            if child_errors:
                errors[name] = child_errors
        elif message := _type_error(field, value):
            errors[name] = [message]
    return errors


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
    errors = unknown_keys_error(data, serializer.fields) or type_errors(serializer.fields, data)
    if errors:
        raise ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class KnownFieldsOnly:
    """Serializer mixin: refuse unknown keys and wrong JSON types (for objects nested in a request)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = unknown_keys_error(data, self.fields) or type_errors(self.fields, data)
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON integer: true, "5" and 5.0 are refused, not coerced."""

    default_error_messages = {"invalid": "A JSON integer is required (not a boolean, string or float)."}

    def to_internal_value(self, data):
        # bool is a subclass of int: `false` would otherwise read as 0.
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)
