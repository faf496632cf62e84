"""/api/system/status and /system/ for staff only; /metrics for staff, the token or allowed addresses."""

import pytest
from django.test import Client
from django.utils import timezone

from jobs import lifecycle
from jobs.models import Status, TaskInfo
from operations import process_stats
from operations.access import client_allowed
from realtime.connection_stats import ConnectionStats

pytestmark = pytest.mark.django_db


def test_status_api_is_staff_only(api, client):
    assert api.get("/api/system/status").status_code == 403
    assert client.get("/api/system/status").status_code in (401, 403)


def test_status_api_counts_the_queue_and_recent_outcomes(staff_api, make_task):
    pending = make_task()
    running = make_task()
    lifecycle.start_task(running)
    done = make_task()
    lifecycle.start_task(done)
    lifecycle.finish_task(done, Status.FAILED, error="boom")
    TaskInfo.objects.filter(pk=pending).update(created_at=timezone.now() - timezone.timedelta(seconds=90))
    body = staff_api.get("/api/system/status").json()
    assert (body["queue"]["pending"], body["queue"]["running"]) == (1, 1)
    assert 89 <= body["queue"]["oldest_pending_age_s"] < 120
    assert body["throughput"] == {"finished_last_5m": 1, "failed_last_5m": 1, "finished_last_60m": 1,
                                  "failed_last_60m": 1}
    assert [task["id"] for task in body["running"]] == [str(running)]
    assert body["clusters"] == []


def test_processes_report_their_sockets_and_stale_ones_are_left_out(staff_api):
    stats = ConnectionStats()
    stats.opened("/ws/bulk-process/1234/", 7)
    stats.opened("/ws/tasks/", 7)
    stats.opened("/ws/tasks/", 8)
    stats.closed("/ws/tasks/", 8)
    stats.sent(5)
    stats.dropped()
    process_stats.report_now("web", stats.snapshot())
    process_stats.ProcessReport.objects.create(host="gone", pid=1, kind="web", stats={},
                                               updated_at=timezone.now() - 2 * process_stats.REPORT_TTL)
    [process] = staff_api.get("/api/system/status").json()["processes"]
    assert process["kind"] == "web" and process["sockets"] == 2
    assert process["sockets_by_path"] == {"/ws/bulk-process/": 1, "/ws/tasks/": 1}
    assert (process["messages_sent"], process["messages_dropped"]) == (5, 1)
    assert process["fds_used"] > 0 and process["fds_limit"] >= process["fds_used"]


def test_system_page_is_staff_only_and_shows_the_queue(client, user, staff_user, make_task):
    make_task()
    client.force_login(user)
    assert client.get("/system/").status_code == 302  # to the admin login: not for them
    client.force_login(staff_user)
    page = client.get("/system/")
    assert page.status_code == 200
    assert b'data-field="pending">1<' in page.content and b"js/system.js" in page.content


def test_metrics_need_staff_the_token_or_an_allowed_address(client, staff_user, settings, make_task):
    make_task()
    assert client.get("/metrics").status_code == 403
    settings.STATUSMSG = {**settings.STATUSMSG, "METRICS_TOKEN": "s3cret", "METRICS_ALLOW": "10.0.0.0/8"}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert answer.status_code == 200
    assert b"statusmsg_tasks_pending 1.0" in answer.content
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    client.force_login(staff_user)
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(("address", "allow", "allowed"), [
    ("10.1.2.3", "10.0.0.0/8", True), ("192.168.1.1", "10.0.0.0/8, 192.168.1.1", True),
    ("127.0.0.1", "", False), ("not-an-ip", "0.0.0.0/0", False), ("10.0.0.1", "garbage", False),
])
def test_metrics_address_allow_list(address, allow, allowed):
    assert client_allowed(address, allow) is allowed


def test_metrics_count_tasks_created_finished_and_notified(staff_user, client, make_task,
                                                          django_capture_on_commit_callbacks):
    client.force_login(staff_user)

    def samples() -> dict[str, float]:
        lines = client.get("/metrics").content.decode().splitlines()
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines if not line.startswith("#")}

    created = 'statusmsg_tasks_created_total{kind="bulk_save"}'
    finished = 'statusmsg_tasks_finished_total{kind="bulk_save",status="failed"}'
    notified = 'statusmsg_notifications_created_total{type="task_failed"}'
    before = samples()
    with django_capture_on_commit_callbacks(execute=True):  # the counters count what committed
        task_id = make_task()
        lifecycle.start_task(task_id)
        lifecycle.finish_task(task_id, Status.FAILED, error="boom")
    after = samples()
    assert {name: after[name] - before.get(name, 0.0) for name in (created, finished, notified)} == {
        created: 1, finished: 1, notified: 1}
    assert 'statusmsg_task_duration_seconds_count{kind="bulk_save"}' in after


def test_a_non_ascii_metrics_token_is_refused_not_a_500(client, settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "METRICS_TOKEN": "s3cret"}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer éé").status_code == 403
