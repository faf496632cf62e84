"""Schedule auto-ingest on django-q2; the scheduled function starts a run only when enabled."""

from statusmsg.conf import app_settings
from django.conf import settings
from django.db import migrations

SCHEDULED = "jobs.auto_ingest.run_scheduled_auto_ingest"  # moved by articles/0001_initial


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="auto-ingest",
        defaults={"func": SCHEDULED, "schedule_type": "I",
                  "minutes": int(app_settings.AUTO_INGEST_EVERY_MINUTES), "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="auto-ingest").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0003_workloads"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
