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

    class Meta:
        model = TaskInfo
        fields = ["status", "kind"]
