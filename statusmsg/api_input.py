"""Request-body validation shared by every app's API views."""

from rest_framework.exceptions import ValidationError


def validated(serializer_class, data) -> dict:
    """Return data validated by serializer_class; a 400 with field errors otherwise.

    A body that is not a JSON object (a list, a string) is a 400 too, not a 500.
    """
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
