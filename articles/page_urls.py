"""Routes of the article pages, included at the site's root: /articles/… and /analysis/…."""

from django.urls import path, re_path

from . import analysis_pages, pages

app_name = "articles-pages"

urlpatterns = [
    path("articles/", pages.article_list, name="article-list"),
    path("articles/<int:article_id>/", pages.article_detail, name="article-detail"),
    re_path(r"^analysis/new/?$", analysis_pages.analysis_new, name="analysis-new"),
    re_path(r"^analysis/auto-ingest/?$", analysis_pages.auto_ingest_settings, name="auto-ingest"),
    re_path(r"^analysis/auto-ingest/run/?$", analysis_pages.run_auto_ingest, name="auto-ingest-run"),
    path("analysis/<str:task_id>/retry-failed", analysis_pages.retry_failed_page, name="retry-failed"),
    path("analysis/<str:task_id>/results", analysis_pages.analysis_results, name="results"),
]
