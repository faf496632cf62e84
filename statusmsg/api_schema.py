"""The OpenAPI schema's error answers and strict request bodies, added once for every endpoint.

Views document their own successes and the errors only they give (409, a staff-only 403); this
postprocessing hook adds the ones every endpoint shares, from what the operation declares:
credentials needed -> 401; a body -> 400, 413, 415; query parameters -> 400; path parameters
-> 404; an unsafe method (CSRF for sessions) or a permission beyond a login (staff only) ->
403; all -> 429 (the throttles). Query parameters take the empty value, which every list view
reads as "the default" (`?unread_only=&limit=`). Request bodies
become `additionalProperties: false`, as the views refuse unknown keys, and their free-text
strings say that U+0000 is refused (statusmsg.parsers).
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer):
    """The body of every error that is not about fields: {"detail": "…"}."""

    detail = serializers.CharField()


STAFF_ONLY = OpenApiResponse(ErrorSerializer, "Staff only (or a session without its CSRF token)")

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Field errors: {"field": ["message", …]} or, for lists and nested objects, deeper structures.
_FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": 'Field errors, e.g. {"articles": {"0": {"url": ["Enter a valid URL."]}}}, or {"detail": "…"}.',
    "additionalProperties": {},
}
_UNSAFE = {"post", "put", "patch", "delete"}
# A string without U+0000. (Lone surrogates are refused too, but a UTF-8 body cannot carry one
# except as a \ud800-style escape, and schemathesis cannot use a pattern that names them.)
STORABLE_TEXT_PATTERN = r"^[^\x00]*$"


def _error(description: str, schema: dict = _ERROR_REF) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _needs_credentials(operation: dict) -> bool:
    security = operation.get("security")
    return bool(security) and {} not in security


# Permissions that refuse nobody who is logged in: any other one can answer 403.
_LOGIN_ONLY = (permissions.IsAuthenticated, permissions.AllowAny)


def _restricted_operations(generator) -> set[tuple[str, str]]:
    """Return (path, method) of the operations whose permissions can refuse a logged-in user."""
    return {
        (path, method.lower())
        for path, _regex, method, view in generator.endpoints
        if any(not issubclass(permission, _LOGIN_ONLY) for permission in view.cls.permission_classes)
    }


def _shared_errors(method: str, operation: dict, restricted: bool) -> dict[str, dict]:
    parameters = operation.get("parameters", [])
    errors = {}
    if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
        errors["400"] = _error("Invalid input: field errors, or a body that is not the JSON expected",
                               {"$ref": "#/components/schemas/FieldErrors"})
    if _needs_credentials(operation):
        errors["401"] = _error("No credentials, or invalid ones (answered with WWW-Authenticate: Token)")
    if restricted:
        errors["403"] = _error("Not allowed for this user (e.g. staff only)")
    elif method in _UNSAFE and _needs_credentials(operation):
        errors["403"] = _error("A session request without its CSRF token")
    if any(p["in"] == "path" for p in parameters):
        errors["404"] = _error("Not found, or not yours")
    if "requestBody" in operation:
        errors["413"] = _error("Request body over DATA_UPLOAD_MAX_MEMORY_SIZE")
        errors["415"] = _error("A body that is not application/json")
    errors["429"] = _error("Rate limited, or too many failed logins; see the Retry-After header")
    return errors


def _request_refs(operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    return [media["schema"]["$ref"].rsplit("/", 1)[1]
            for media in content.values() if "$ref" in media.get("schema", {})]


def _storable(schema: dict) -> None:
    """Add the storable-text pattern to schema if it is a free-text string."""
    if schema.get("type") == "string" and not ({"pattern", "enum", "format"} & set(schema)):
        schema["pattern"] = STORABLE_TEXT_PATTERN


def _close_object(name: str, schemas: dict, seen: set) -> None:
    """Close request schema name, and the objects it refers to, to unknown keys and unstorable text."""
    if name in seen or name not in schemas:
        return
    seen.add(name)
    schema = schemas[name]
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
    for prop in schema.get("properties", {}).values():
        _storable(prop)
        _storable(prop.get("items", {}))
        for ref in (prop.get("$ref"), prop.get("items", {}).get("$ref")):
            if ref:
                _close_object(ref.rsplit("/", 1)[1], schemas, seen)


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the shared errors and close the request bodies."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", _ERROR_SCHEMA)
    schemas.setdefault("FieldErrors", _FIELD_ERRORS_SCHEMA)
    closed: set[str] = set()
    restricted = _restricted_operations(generator)
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in _UNSAFE | {"get", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, response in _shared_errors(method, operation, (path, method) in restricted).items():
                responses.setdefault(code, response)
            for name in _request_refs(operation):
                _close_object(name, schemas, closed)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    parameter.setdefault("allowEmptyValue", True)
                    _storable(parameter.get("schema", {}))
    return result
