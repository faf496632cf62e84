"""Query-string filters of the task list."""

import django_filters

from .models import Status, TaskInfo


class TaskFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Status.choices,
        error_messages={
            "invalid_choice": f"Unknown status '%(value)s'; valid statuses are: {', '.join(Status.values)}."
        },
    )
    kind = django_filters.CharFilter()
    # A group's chunks are listed with it only when asked: the list shows each group once.
    include_children = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="keep",
        error_messages={"invalid_choice": "Expected true or false."},
    )

    class Meta:
        model = TaskInfo
        fields = ["status", "kind", "include_children"]

    def keep(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where its absence counts too

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("include_children") != "true":
            queryset = queryset.filter(parent__isnull=True)
        return queryset
