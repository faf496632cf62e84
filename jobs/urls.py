"""Routes of /api/background-tasks/; each path works with and without its trailing slash."""

from django.urls import re_path

from . import views, workload_views

app_name = "jobs"

urlpatterns = [
    re_path(r"^bulk-save/?$", views.BulkSaveView.as_view(), name="bulk-save"),
    re_path(r"^bulk-analysis/?$", workload_views.BulkAnalysisView.as_view(), name="bulk-analysis"),
    re_path(r"^auto-ingest/?$", workload_views.AutoIngestView.as_view(), name="auto-ingest"),
    re_path(r"^keyword-check/?$", workload_views.KeywordCheckView.as_view(), name="keyword-check"),
    re_path(r"^task/(?P<task_id>[^/]+)/?$", views.TaskDetailView.as_view(), name="task"),
    re_path(r"^tasks/?$", views.TaskListView.as_view(), name="tasks"),
    re_path(r"^summary/?$", views.SummaryView.as_view(), name="summary"),
    re_path(r"^cleanup/?$", views.CleanupView.as_view(), name="cleanup"),
]
