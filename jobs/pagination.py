"""The task list's page shape: {tasks, summary, count, next, previous}; bad limits are a 400."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from .serializers import SummarySerializer

_COUNT = {"type": "integer", "minimum": 0}


class TaskPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_limit(self, request):
        # DRF falls back to the default on `limit=abc` or `limit=-1`; a typo should be told.
        return self._query_int(request, self.limit_query_param, minimum=1, default=self.default_limit,
                               maximum=self.max_limit)

    def get_offset(self, request):
        return self._query_int(request, self.offset_query_param, minimum=0, default=0)

    @staticmethod
    def _query_int(request, name: str, minimum: int, default: int, maximum: int | None = None) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or (maximum and int(raw) > maximum):
            bound = f" and at most {maximum}" if maximum else ""
            raise ValidationError({name: [f"Expected a whole number of at least {minimum}{bound}."]})
        return int(raw)

    def get_paginated_response(self, data, summary=None):
        return Response(
            {
                "tasks": data,
                "summary": summary,
                "count": self.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["tasks"] = properties.pop("results")
        properties["count"] = _COUNT
        properties["summary"] = {
            "type": "object",
            "properties": {name: _COUNT for name in SummarySerializer().fields},
            "required": list(SummarySerializer().fields),
        }
        response["required"] = ["tasks", "summary", "count", "next", "previous"]
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
                  self.offset_query_param: {"minimum": 0}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
