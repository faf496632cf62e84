"""POST /api/background-tasks/task/{task_id}/retry-failed: a thin view over articles.retry."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_schema import ErrorSerializer

from .retry import retry_failed
from .serializers import TaskStartedSerializer


class RetryFailedView(APIView):
    @extend_schema(operation_id="background_tasks_task_retry_failed", request=None, responses={
        202: TaskStartedSerializer,
        404: OpenApiResponse(ErrorSerializer, "No such task of yours"),
        409: OpenApiResponse(ErrorSerializer, "Not a finished bulk analysis, or none of its URLs failed"),
    })
    def post(self, request, task_id):
        retry_id = retry_failed(task_id, request.user)
        return Response({"task_id": str(retry_id)}, status=status.HTTP_202_ACCEPTED)
