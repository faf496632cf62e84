"""Admin for tasks: read-only, with cancel and delete-finished actions."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from . import cleanup, lifecycle
from .exceptions import TaskAlreadyFinished, TaskInGroup
from .models import TaskInfo


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
        cancelled, refused, chunks = 0, 0, 0
        for task_id in queryset.values_list("pk", flat=True):
            try:
                lifecycle.cancel_task(task_id, by=request.user)
                cancelled += 1
            except TaskAlreadyFinished:
                refused += 1
            except TaskInGroup:
                chunks += 1
        message = f"Cancelled or asked to stop: {cancelled}; already finished: {refused}."
        if chunks:
            message += f" Chunks of a group left alone (cancel their group): {chunks}."
        self.message_user(request, message)

    @admin.action(description="Delete selected finished tasks", permissions=["delete"])
    def delete_finished(self, request, queryset):
        deleted = cleanup.delete_finished_tasks(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Deleted {deleted} finished tasks (unfinished ones were kept).", messages.INFO)
