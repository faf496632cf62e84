"""Routes of the operator's endpoints: /healthz, /readyz, /metrics, /api/system/status and /system/."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    re_path(r"^api/system/status/?$", views.SystemStatusView.as_view(), name="system-status"),
    path("system/", views.system_page, name="system"),
]
