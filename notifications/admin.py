"""Admin for notifications: browse, filter, mark, delete, and send a system-wide notice.

Every change goes through the use cases, so open tabs hear about it like any other change.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import services
from .models import Notification, NotificationReceipt
from .validation import validate_link, validate_type


class NoticeFields(forms.Form):
    """The fields a staff member writes; shared by the add form and the system-wide form."""

    def clean_type(self):
        return validate_type(self.cleaned_data["type"])

    def clean_link(self):
        return validate_link(self.cleaned_data.get("link"))


class NotificationAddForm(forms.ModelForm):
    class Meta:
        model = Notification
        fields = ["user", "type", "title", "message", "link"]

    clean_type = NoticeFields.clean_type
    clean_link = NoticeFields.clean_link


class SystemNoticeForm(NoticeFields):
    type = forms.CharField(max_length=50, initial="system")
    title = forms.CharField(max_length=255)
    message = forms.CharField(widget=forms.Textarea, required=False)
    link = forms.CharField(max_length=500, required=False, help_text="A relative path or an http(s) URL.")


class SystemWideFilter(admin.SimpleListFilter):
    title = "audience"
    parameter_name = "system_wide"

    def lookups(self, request, model_admin):
        return [("yes", "Everyone (system-wide)"), ("no", "One user")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(user__isnull=True)
        if self.value() == "no":
            return queryset.filter(user__isnull=False)
        return queryset


class ReceiptInline(admin.TabularInline):
    model = NotificationReceipt
    fields = ["user", "read_at", "hidden_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Receipts (each user's read / hidden state of this system-wide notice)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "type", "read", "created_at"]
    list_filter = ["type", "read", SystemWideFilter]
    search_fields = ["title", "message", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["mark_read", "mark_unread", "delete_notifications"]
    inlines = [ReceiptInline]
    change_list_template = "notifications/admin/change_list.html"
    form = NotificationAddForm
    raw_id_fields = ["user"]

    @admin.display(description="user", ordering="user__username")
    def recipient(self, obj):
        return obj.user.get_username() if obj.user_id else "everyone"

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.is_system_wide else []

    def get_readonly_fields(self, request, obj=None):
        # A sent notification is a record: it changes only through the actions.
        if obj is not None:
            return ["user", "type", "title", "message", "link", "read", "created_at"]
        return []

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # replaced by delete_notifications (announces)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        obj.pk = services.create_notification(data["user"], data["type"], data["title"], data["message"],
                                              data["link"])
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_by_staff([obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_by_staff(queryset.values_list("pk", flat=True))

    @admin.action(description="Mark selected as read (users' own notifications)")
    def mark_read(self, request, queryset):
        self._report_read(request, queryset, read=True)

    @admin.action(description="Mark selected as unread (users' own notifications)")
    def mark_unread(self, request, queryset):
        self._report_read(request, queryset, read=False)

    @admin.action(description="Delete selected notifications", permissions=["delete"])
    def delete_notifications(self, request, queryset):
        deleted = services.delete_by_staff(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Deleted {deleted} notifications.", messages.SUCCESS)

    def _report_read(self, request, queryset, read: bool):
        system_wide = queryset.filter(user__isnull=True).count()
        changed = services.set_read_by_staff(queryset.values_list("pk", flat=True), read)
        self.message_user(request, f"Marked {changed} notifications {'read' if read else 'unread'}.")
        if system_wide:
            self.message_user(request, f"Skipped {system_wide} system-wide notifications: each user reads "
                                       "those for themselves (see their receipts).", messages.WARNING)

    def get_urls(self):
        send = path("send-notice/", self.admin_site.admin_view(self.send_notice_view),
                    name="notifications_notification_send_notice")
        return [send, *super().get_urls()]

    def send_notice_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = SystemNoticeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            notification_id = services.create_notification(None, data["type"], data["title"], data["message"],
                                                           data["link"])
            self.message_user(request, f"Sent system-wide notice #{notification_id} to everyone.", messages.SUCCESS)
            return redirect(reverse("admin:notifications_notification_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "Send a system-wide notice"}
        return TemplateResponse(request, "notifications/admin/send_notice.html", context)
