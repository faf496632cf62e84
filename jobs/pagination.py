"""The task list's page shape: {tasks, summary, count, next, previous}."""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class TaskPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

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
        response["properties"]["tasks"] = response["properties"].pop("results")
        response["properties"]["summary"] = {"type": "object"}
        return response
