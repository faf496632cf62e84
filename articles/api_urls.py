"""Routes of the article read API under /api/ (with and without a trailing slash)."""

from django.urls import re_path

from . import reading

app_name = "articles-api"

urlpatterns = [
    re_path(r"^articles/?$", reading.ArticleListView.as_view(), name="article-list"),
    re_path(r"^articles/(?P<article_id>[^/]+)/?$", reading.ArticleDetailView.as_view(), name="article-detail"),
]
