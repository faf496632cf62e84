"""Routes of the tasks under /api/background-tasks/; each path works with and without its trailing slash."""

from django.urls import re_path

from . import views

app_name = "jobs"

urlpatterns = [
    re_path(r"^task/(?P<task_id>[^/]+)/?$", views.TaskDetailView.as_view(), name="task"),
    re_path(r"^task/(?P<task_id>[^/]+)/children/?$", views.TaskChildrenView.as_view(), name="task-children"),
    re_path(r"^tasks/?$", views.TaskListView.as_view(), name="tasks"),
    re_path(r"^summary/?$", views.SummaryView.as_view(), name="summary"),
    re_path(r"^cleanup/?$", views.CleanupView.as_view(), name="cleanup"),
]
