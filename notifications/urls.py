"""Routes of /api/notifications; each path works with and without its trailing slash."""

from django.urls import re_path

from . import views

app_name = "notifications"

# Included under "api/notifications" with no slash, so each pattern brings its own.
# The fixed words come before the id route, which would otherwise swallow them.
urlpatterns = [
    re_path(r"^/?$", views.NotificationListView.as_view(), name="list"),
    re_path(r"^/unread-count/?$", views.UnreadCountView.as_view(), name="unread-count"),
    re_path(r"^/mark-all-read/?$", views.MarkAllReadView.as_view(), name="mark-all-read"),
    re_path(r"^/read/?$", views.DeleteReadView.as_view(), name="delete-read"),
    re_path(r"^/create/?$", views.CreateNotificationView.as_view(), name="create"),
    re_path(r"^/(?P<notification_id>[^/]+)/mark-read/?$", views.MarkReadView.as_view(), name="mark-read"),
    re_path(r"^/(?P<notification_id>[^/]+)/?$", views.NotificationDetailView.as_view(), name="detail"),
]
