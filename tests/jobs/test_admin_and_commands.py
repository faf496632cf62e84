"""The TaskInfo admin (list, actions) and the cleanup_tasks / reap_tasks commands."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs import lifecycle
from jobs.models import Status, TaskInfo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@x", "pw"))
    return client


def finished_task(owner, hours_ago: float):
    task_id = lifecycle.create_task("done", owner=owner)
    lifecycle.cancel_task(task_id)
    TaskInfo.objects.filter(pk=task_id).update(completed_at=timezone.now() - timedelta(hours=hours_ago))
    return task_id


def test_admin_list_shows_progress_bar_and_filters(admin_client, user):
    lifecycle.create_task("visible job", owner=user)
    page = admin_client.get("/admin/jobs/taskinfo/?status__exact=pending")
    assert page.status_code == 200
    assert b"visible job" in page.content and b"<progress" in page.content
    assert admin_client.get("/admin/jobs/taskinfo/?q=visible").status_code == 200


def test_admin_task_page_is_read_only(admin_client, user):
    task_id = lifecycle.create_task("job", owner=user)
    page = admin_client.get(f"/admin/jobs/taskinfo/{task_id}/change/")
    assert page.status_code == 200 and b'name="name"' not in page.content


def test_admin_cancel_action_goes_through_the_use_case(admin_client, user):
    pending = lifecycle.create_task("p", owner=user)
    running = lifecycle.create_task("r", owner=user)
    lifecycle.start_task(running)
    admin_client.post("/admin/jobs/taskinfo/", {"action": "cancel_tasks", "_selected_action": [pending, running]})
    assert TaskInfo.objects.get(pk=pending).status == Status.CANCELLED
    assert TaskInfo.objects.get(pk=running).cancel_requested_at is not None


def test_admin_delete_finished_action_keeps_unfinished(admin_client, user):
    done = finished_task(user, 1)
    pending = lifecycle.create_task("p", owner=user)
    admin_client.post("/admin/jobs/taskinfo/", {"action": "delete_finished", "_selected_action": [done, pending]})
    assert list(TaskInfo.objects.values_list("pk", flat=True)) == [pending]


def test_cleanup_tasks_dry_run_counts_and_deletes_nothing(user):
    finished_task(user, 48)
    output = StringIO()
    call_command("cleanup_tasks", "--dry-run", stdout=output)
    assert "Would delete 1" in output.getvalue()
    assert TaskInfo.objects.count() == 1


def test_cleanup_tasks_deletes_only_old_finished_rows_in_batches(user, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "CLEANUP_BATCH_SIZE": 2}
    old = [finished_task(user, 48) for _ in range(5)]
    recent = finished_task(user, 1)
    unfinished = lifecycle.create_task("pending", owner=user)
    TaskInfo.objects.filter(pk=unfinished).update(created_at=timezone.now() - timedelta(days=30))
    output = StringIO()
    call_command("cleanup_tasks", "--max-age-hours", "24", stdout=output)
    assert "Deleted 5" in output.getvalue()
    assert set(TaskInfo.objects.values_list("pk", flat=True)) == {recent, unfinished}
    assert not TaskInfo.objects.filter(pk__in=old).exists()


def test_cleanup_tasks_refuses_an_age_that_would_overflow():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="between 0 and"):
        call_command("cleanup_tasks", "--max-age-hours", "1e12")


def test_admin_cannot_delete_an_unfinished_task(admin_client, user):
    running = lifecycle.create_task("r", owner=user)
    lifecycle.start_task(running)
    assert admin_client.get(f"/admin/jobs/taskinfo/{running}/delete/").status_code == 403
    admin_client.post("/admin/jobs/taskinfo/", {"action": "delete_selected", "_selected_action": [running],
                                                "post": "yes"})
    assert TaskInfo.objects.filter(pk=running).exists()


def test_admin_may_delete_a_finished_task(admin_client, user):
    done = finished_task(user, 1)
    admin_client.post(f"/admin/jobs/taskinfo/{done}/delete/", {"post": "yes"})
    assert not TaskInfo.objects.filter(pk=done).exists()
