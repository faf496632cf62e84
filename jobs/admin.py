"""Admin for tasks (read-only, with cancel and delete-finished actions) and articles."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from . import cleanup, lifecycle
from .exceptions import TaskAlreadyFinished
from .models import Article, AutoIngestConfig, FeedSource, KeywordAlert, KeywordCheck, KeywordGroup, TaskInfo


@admin.register(TaskInfo)
class TaskInfoAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "progress_bar", "owner", "kind", "age", "processed_items", "total_items"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["id", "name", "owner__username", "current_item", "error"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    actions = ["cancel_tasks", "delete_finished"]
    readonly_fields = [field.name for field in TaskInfo._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # rows change only through the use cases

    def has_delete_permission(self, request, obj=None):
        # A pending or running row still has a worker (or a queue entry) that will look
        # for it: only finished tasks may go.
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_finished)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # it would delete unfinished rows too; see delete_finished
        return actions

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, task):
        return format_html('<progress max="100" value="{}"></progress> {}%', task.progress, round(task.progress))

    @admin.display(description="age", ordering="created_at")
    def age(self, task):
        return timesince(task.created_at, timezone.now())

    @admin.action(description="Cancel selected tasks", permissions=["view"])
    def cancel_tasks(self, request, queryset):
        cancelled, refused = 0, 0
        for task_id in queryset.values_list("pk", flat=True):
            try:
                lifecycle.cancel_task(task_id, by=request.user)
                cancelled += 1
            except TaskAlreadyFinished:
                refused += 1
        self.message_user(request, f"Cancelled or asked to stop: {cancelled}; already finished: {refused}.")

    @admin.action(description="Delete selected finished tasks", permissions=["delete"])
    def delete_finished(self, request, queryset):
        deleted = cleanup.delete_finished_tasks(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Deleted {deleted} finished tasks (unfinished ones were kept).", messages.INFO)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "url", "source", "topic", "sentiment_label", "relevance", "analyzed_at", "created_at"]
    list_filter = ["topic", "source", "sentiment_label", "model_used"]
    search_fields = ["title", "url", "content", "summary"]
    date_hierarchy = "created_at"


# --- Workloads: feeds, the auto-ingest settings (one row), keyword groups and alerts.


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
        from django.shortcuts import redirect

        config = AutoIngestConfig.load()  # so there is always a row to edit
        return redirect("admin:jobs_autoingestconfig_change", config.pk)


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
