"""Routes of the inbox: the REST API under /api/notifications and the /notifications/ page.

Every API path works with and without its trailing slash, and neither redirects. The fixed
words come before the id routes, which would otherwise swallow them.
"""

from django.urls import path, re_path

from . import pages, views

app_name = "notifications"

API = r"^api/notifications"

urlpatterns = [
    re_path(API + r"/?$", views.NotificationListView.as_view(), name="list"),
    re_path(API + r"/unread-count/?$", views.UnreadCountView.as_view(), name="unread-count"),
    re_path(API + r"/mark-all-read/?$", views.MarkAllReadView.as_view(), name="mark-all-read"),
    re_path(API + r"/read/?$", views.DeleteReadView.as_view(), name="delete-read"),
    re_path(API + r"/create/?$", views.CreateNotificationView.as_view(), name="create"),
    re_path(API + r"/(?P<notification_id>[^/]+)/mark-read/?$", views.MarkReadView.as_view(), name="mark-read"),
    re_path(API + r"/(?P<notification_id>[^/]+)/?$", views.NotificationDetailView.as_view(), name="detail"),
    path("notifications/", pages.inbox, name="inbox"),
]
