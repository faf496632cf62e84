"""REST endpoints of /api/background-tasks/: thin views over the jobs use cases."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_errors import validated

from . import cleanup, lifecycle, queries
from .filters import TaskFilter
from .pagination import TaskPagination
from .serializers import (
    BulkSaveRequestSerializer,
    CancelResultSerializer,
    CleanupRequestSerializer,
    CleanupResultSerializer,
    SummarySerializer,
    TaskCreatedSerializer,
    TaskInfoSerializer,
)


class BulkSaveView(generics.GenericAPIView):
    # serializer_class gives the browsable API a ready JSON form to post from.
    serializer_class = BulkSaveRequestSerializer

    @extend_schema(request=BulkSaveRequestSerializer, responses={202: TaskCreatedSerializer})
    def post(self, request):
        data = validated(BulkSaveRequestSerializer, request.data)
        articles = data["articles"]
        task_id = lifecycle.create_task(
            name=f"Bulk save of {len(articles)} articles",
            total_items=len(articles),
            owner=request.user,
            kind="bulk_save",
            metadata={"topic": data["topic"]} if data.get("topic") else {},
            params={"articles": articles},
        )
        return Response({"task_id": str(task_id)}, status=status.HTTP_202_ACCEPTED)


class TaskDetailView(APIView):
    @extend_schema(responses={200: TaskInfoSerializer, 404: OpenApiResponse(description="No such task")})
    def get(self, request, task_id):
        return Response(TaskInfoSerializer(queries.get_task(task_id, request.user)).data)

    @extend_schema(responses={200: CancelResultSerializer, 409: OpenApiResponse(description="Already finished")})
    def delete(self, request, task_id):
        task = queries.get_task(task_id, request.user)
        task = lifecycle.cancel_task(task.pk, by=request.user)
        message = (
            "Task cancelled"
            if task.status == "cancelled"
            else "Cancellation requested; the job stops at its next progress report"
        )
        return Response({"success": True, "message": message, "status": task.status})


class TaskListView(generics.ListAPIView):
    serializer_class = TaskInfoSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination

    def get_queryset(self):
        return queries.list_tasks(user=self.request.user)

    def get_paginated_response(self, data):
        return self.paginator.get_paginated_response(data, summary=queries.get_task_summary(self.request.user))


class SummaryView(APIView):
    @extend_schema(responses={200: SummarySerializer})
    def get(self, request):
        return Response(queries.get_task_summary(request.user))


class CleanupView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=CleanupRequestSerializer, responses={200: CleanupResultSerializer})
    def post(self, request):
        max_age_hours = validated(CleanupRequestSerializer, request.data)["max_age_hours"]
        deleted = cleanup.cleanup_old_tasks(max_age_hours)
        return Response({"deleted": deleted, "max_age_hours": max_age_hours})
