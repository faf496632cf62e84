"""Endpoints that start the article workloads, and the keyword-alerts page: thin views over use cases."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_input import validated
from statusmsg.api_schema import STAFF_ONLY, ErrorSerializer

from . import queries
from .analysis import start_bulk_analysis
from .auto_ingest import start_auto_ingest
from .bulk_save import start_bulk_save
from .keyword_checks import start_keyword_check
from .serializers import (
    AlreadyRunningSerializer,
    BulkAnalysisRequestSerializer,
    BulkSaveRequestSerializer,
    KeywordCheckRequestSerializer,
    TaskStartedSerializer,
)

ALERTS_SHOWN = 200


def _started(task_id) -> Response:
    return Response({"task_id": str(task_id)}, status=status.HTTP_202_ACCEPTED)


class BulkSaveView(generics.GenericAPIView):
    # serializer_class gives the browsable API a ready JSON form to post from.
    serializer_class = BulkSaveRequestSerializer

    @extend_schema(request=BulkSaveRequestSerializer, responses={202: TaskStartedSerializer})
    def post(self, request):
        data = validated(BulkSaveRequestSerializer, request.data)
        return _started(start_bulk_save(data["articles"], owner=request.user, topic=data.get("topic") or ""))


class BulkAnalysisView(APIView):
    @extend_schema(request=BulkAnalysisRequestSerializer, responses={202: TaskStartedSerializer})
    def post(self, request):
        data = dict(validated(BulkAnalysisRequestSerializer, request.data))
        return _started(start_bulk_analysis(data.pop("urls"), owner=request.user, **data))


class AutoIngestView(APIView):
    # Staff only: it reads every configured feed, and its result names them all.
    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={202: TaskStartedSerializer, 403: STAFF_ONLY,
                                            409: OpenApiResponse(AlreadyRunningSerializer, "One is already running")})
    def post(self, request):
        return _started(start_auto_ingest(owner=request.user))


class KeywordCheckView(APIView):
    @extend_schema(request=KeywordCheckRequestSerializer,
                   responses={202: TaskStartedSerializer,
                              404: OpenApiResponse(ErrorSerializer, "No such group of yours")})
    def post(self, request):
        # No body means every group; a body of null, a list or a string is a 400.
        group_id = validated(KeywordCheckRequestSerializer, request.data)["group_id"]
        return _started(start_keyword_check(group_id=group_id, owner=request.user))


@login_required
def keyword_alerts_page(request):
    """List the user's keyword alerts, newest first."""
    counts = queries.keyword_alert_counts(request.user)
    return render(request, "articles/keyword_alerts.html", {
        "alerts": queries.keyword_alerts_for(request.user)[:ALERTS_SHOWN],
        "alert_count": counts["total"],
        "unread_count": counts["unread"],
        "groups": queries.keyword_groups_of(request.user),
        "shown": ALERTS_SHOWN,
    })
