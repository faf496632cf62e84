"""Endpoints that start the article workloads, and the keyword-alerts page: thin views over use cases."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import lifecycle
from statusmsg.api_input import validated

from . import queries
from .auto_ingest import start_auto_ingest
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
        articles = data["articles"]
        task_id = lifecycle.create_task(
            name=f"Bulk save of {len(articles)} articles",
            total_items=len(articles),
            owner=request.user,
            kind="bulk_save",
            metadata={"topic": data["topic"]} if data.get("topic") else {},
            params={"articles": articles},
        )
        return _started(task_id)


class BulkAnalysisView(APIView):
    @extend_schema(request=BulkAnalysisRequestSerializer, responses={202: TaskStartedSerializer})
    def post(self, request):
        data = validated(BulkAnalysisRequestSerializer, request.data)
        urls = data["urls"]
        params = {key: data[key] for key in ("urls", "topic", "summary_type", "model_name", "batch_size", "force")}
        if data.get("max_concurrent"):
            params["max_concurrent"] = data["max_concurrent"]
        task_id = lifecycle.create_task(
            name=f"Bulk analysis of {len(urls)} URLs",
            total_items=len(urls),
            owner=request.user,
            kind="bulk_analysis",
            metadata={"topic": data["topic"], "summary_type": data["summary_type"], "model_name": data["model_name"],
                      "batch_size": data["batch_size"]},
            params=params,
        )
        return _started(task_id)


class AutoIngestView(APIView):
    @extend_schema(request=None, responses={202: TaskStartedSerializer,
                                            409: OpenApiResponse(AlreadyRunningSerializer, "One is already running")})
    def post(self, request):
        return _started(start_auto_ingest(owner=request.user))


class KeywordCheckView(APIView):
    @extend_schema(request=KeywordCheckRequestSerializer,
                   responses={202: TaskStartedSerializer, 404: OpenApiResponse(description="No such group of yours")})
    def post(self, request):
        group_id = validated(KeywordCheckRequestSerializer, request.data or {})["group_id"]
        if group_id is not None:
            queries.get_keyword_group(group_id, request.user)  # 404 unless the user may see it
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
