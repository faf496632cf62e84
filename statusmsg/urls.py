"""Top-level routes: the API, its schema and docs, the admin, the login and the pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from articles.views import keyword_alerts_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^api/auth/token/?$", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/background-tasks/", include("jobs.urls")),
    path("api/background-tasks/", include("articles.urls")),
    path("tasks/", include("jobs.page_urls")),
    path("", include("notifications.urls")),  # /api/notifications… and the /notifications/ page
    path("", RedirectView.as_view(url="/tasks/", permanent=False)),
    re_path(r"^keyword-alerts/?$", keyword_alerts_page, name="keyword-alerts"),
]
