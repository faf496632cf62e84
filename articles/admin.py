"""Admin for articles, feeds, the auto-ingest settings (one row), keyword groups and alerts."""

from django.contrib import admin
from django.shortcuts import redirect

from .models import Article, AutoIngestConfig, FeedSource, KeywordAlert, KeywordCheck, KeywordGroup


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "url", "source", "topic", "sentiment_label", "relevance", "analyzed_at", "created_at"]
    list_filter = ["topic", "source", "sentiment_label", "model_used"]
    search_fields = ["title", "url", "content", "summary"]
    date_hierarchy = "created_at"


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "url", "topic", "enabled", "last_fetched_at", "last_error"]
    list_filter = ["enabled", "topic"]
    list_editable = ["enabled"]
    search_fields = ["name", "url", "topic"]
    readonly_fields = ["last_fetched_at", "last_error", "created_at"]


@admin.register(AutoIngestConfig)
class AutoIngestConfigAdmin(admin.ModelAdmin):
    list_display = ["__str__", "enabled", "quality_control_enabled", "min_relevance_threshold", "batch_size",
                    "max_concurrent_batches", "updated_at"]

    def has_add_permission(self, request):
        return not AutoIngestConfig.objects.exists()  # a singleton: edit the one row

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        config = AutoIngestConfig.load()  # so there is always a row to edit
        return redirect("admin:articles_autoingestconfig_change", config.pk)


@admin.register(KeywordGroup)
class KeywordGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "keywords", "enabled", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    exclude = ["checked_articles"]


@admin.register(KeywordAlert)
class KeywordAlertAdmin(admin.ModelAdmin):
    list_display = ["group", "article", "matched_keywords", "is_read", "created_at"]
    list_filter = ["is_read", "group"]
    search_fields = ["group__name", "article__title", "article__url"]
    list_select_related = ["group", "article"]
    raw_id_fields = ["article"]


@admin.register(KeywordCheck)
class KeywordCheckAdmin(admin.ModelAdmin):
    list_display = ["group", "article", "checked_at"]
    list_filter = ["group"]
    raw_id_fields = ["article"]
