"""The site's routes plus the article read API and pages, until statusmsg.urls includes them."""

from django.urls import include, path

from statusmsg.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("api/", include("articles.api_urls")),
    path("", include("articles.page_urls")),
    *site_urlpatterns,
]
