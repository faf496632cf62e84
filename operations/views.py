"""Health, readiness, metrics, the system status API and the staff system page: thin views."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import health, metrics, status
from .access import may_read_metrics


@never_cache
@require_GET
def healthz(request):
    """Answer 200 while this process serves; touches neither the database nor Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
async def readyz(request):
    """Answer 200 when the database, the channel layer and a cluster all answer; 503 otherwise."""
    answer = await health.readiness()
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)


@never_cache
@require_GET
def metrics_view(request):
    if not may_read_metrics(request):
        return HttpResponse("Forbidden: staff, the metrics token or an allowed address only.\n",
                            status=403, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)


class SystemStatusView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(status.system_status())


@staff_member_required
def system_page(request):
    """Show clusters, the queue, running tasks and each process's sockets; kept current by system.js."""
    return render(request, "operations/system.html", {"status": status.system_status()})
