"""Top-level routes: the API, its schema and docs, the admin, the login and the pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.decorators.csp import csp_override
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from articles.views import keyword_alerts_page
from statusmsg.renderers import inline_styles_csp
from statusmsg.token_view import obtain_auth_token


def _docs_csp(view):
    """Let Swagger UI and Redoc add their <style> elements at run time; scripts stay nonce-only."""
    return csp_override(inline_styles_csp())(view)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^api/auth/token/?$", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", _docs_csp(SpectacularSwaggerView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", _docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("api/background-tasks/", include("jobs.urls")),
    path("api/background-tasks/", include("articles.urls")),
    path("api/", include("articles.api_urls")),  # /api/articles…
    path("", include("articles.page_urls")),  # /articles/…, /analysis/…
    path("", include("operations.urls")),  # /healthz, /readyz, /metrics, /api/system/status, /system/
    path("tasks/", include("jobs.page_urls")),
    path("", include("notifications.urls")),  # /api/notifications… and the /notifications/ page
    path("", RedirectView.as_view(url="/tasks/", permanent=False)),
    re_path(r"^keyword-alerts/?$", keyword_alerts_page, name="keyword-alerts"),
]
