"""REST endpoints of /api/background-tasks/: thin views over the jobs use cases."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_input import validated
from statusmsg.api_schema import STAFF_ONLY, ErrorSerializer

from . import cleanup, lifecycle, queries
from .filters import TaskFilter
from .models import Status, TaskInfo
from .pagination import TaskPagination
from .serializers import (
    CancelResultSerializer,
    CleanupRequestSerializer,
    CleanupResultSerializer,
    SummarySerializer,
    TaskInfoSerializer,
)


class TaskDetailView(APIView):
    @extend_schema(responses={200: TaskInfoSerializer, 404: OpenApiResponse(ErrorSerializer, "No such task of yours")})
    def get(self, request, task_id):
        return Response(TaskInfoSerializer(queries.get_task(task_id, request.user)).data)

    @extend_schema(responses={200: CancelResultSerializer,
                              404: OpenApiResponse(ErrorSerializer, "No such task of yours"),
                              409: OpenApiResponse(ErrorSerializer, "Already finished")})
    def delete(self, request, task_id):
        task = queries.get_task(task_id, request.user)
        task = lifecycle.cancel_task(task.pk, by=request.user)
        message = (
            "Task cancelled"
            if task.status == "cancelled"
            else "Cancellation requested; the job stops at its next progress report, or when it returns, "
            "and keeps what it has done"
        )
        return Response({"success": True, "message": message, "status": task.status})


@extend_schema_view(get=extend_schema(parameters=[
    # An empty status means any, as django-filter reads it: the schema says so.
    OpenApiParameter("status", str, enum=["", *Status.values], description="Only tasks in this status."),
]))
class TaskListView(generics.ListAPIView):
    serializer_class = TaskInfoSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user to ask about
            return TaskInfo.objects.none()
        # Chunks of groups are left out by TaskFilter unless ?include_children=true.
        return queries.list_tasks(user=self.request.user, include_children=True)

    def get_paginated_response(self, data):
        return self.paginator.get_paginated_response(data, summary=queries.get_task_summary(self.request.user))


class TaskChildrenView(generics.ListAPIView):
    """The chunks of a group, in order; a task that is not a group has none."""

    serializer_class = TaskInfoSerializer
    pagination_class = TaskPagination

    @extend_schema(responses={200: TaskInfoSerializer(many=True),
                              404: OpenApiResponse(ErrorSerializer, "No such task of yours")})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TaskInfo.objects.none()
        return queries.list_children(self.kwargs["task_id"], self.request.user)

    def get_paginated_response(self, data):
        # The summary counts the group's chunks by status (the group's `children`).
        return self.paginator.get_paginated_response(data, summary=self.get_queryset().summary())


class SummaryView(APIView):
    @extend_schema(responses={200: SummarySerializer})
    def get(self, request):
        return Response(queries.get_task_summary(request.user))


class CleanupView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=CleanupRequestSerializer, responses={200: CleanupResultSerializer, 403: STAFF_ONLY})
    def post(self, request):
        max_age_hours = validated(CleanupRequestSerializer, request.data)["max_age_hours"]
        deleted = cleanup.cleanup_old_tasks(max_age_hours)
        return Response({"deleted": deleted, "max_age_hours": max_age_hours})
