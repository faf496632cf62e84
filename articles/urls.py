"""Routes of the article workloads under /api/background-tasks/ (with and without a trailing slash)."""

from django.urls import re_path

from . import retry_api, views

app_name = "articles"

urlpatterns = [
    re_path(r"^bulk-save/?$", views.BulkSaveView.as_view(), name="bulk-save"),
    re_path(r"^bulk-analysis/?$", views.BulkAnalysisView.as_view(), name="bulk-analysis"),
    re_path(r"^auto-ingest/?$", views.AutoIngestView.as_view(), name="auto-ingest"),
    re_path(r"^keyword-check/?$", views.KeywordCheckView.as_view(), name="keyword-check"),
    re_path(r"^task/(?P<task_id>[^/]+)/retry-failed/?$", retry_api.RetryFailedView.as_view(), name="retry-failed"),
]
