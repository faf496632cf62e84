"""Routes of the task pages under /tasks/."""

from django.urls import path

from . import pages

app_name = "pages"

urlpatterns = [
    path("", pages.task_list, name="task-list"),
    path("<str:task_id>/", pages.task_detail, name="task-detail"),
]
