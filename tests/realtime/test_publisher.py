"""The one publisher: message shapes and groups, and pushes that fail without hurting the job."""

import asyncio
import json
import logging
import socket
import time

import pytest
from channels.layers import get_channel_layer
from django.db.models import F

from jobs import announce, lifecycle
from jobs.models import Status, TaskInfo
from jobs.serializers import task_snapshot
from jobs.worker import run_task
from realtime import publisher
from realtime.groups import STAFF_JOBS_GROUP, job_group, topic_group, user_jobs_group

from .conftest import amake
from .layers import RecordingLayer, StaleOnceLayer

ARTICLES = [{"url": f"https://example.com/a/{n}", "title": f"A {n}"} for n in range(300)]


async def listen(*groups):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return layer, channel


async def next_message(layer, channel) -> tuple[dict, dict]:
    event = await asyncio.wait_for(layer.receive(channel), 2)
    return event, json.loads(event["text"])


ANNOUNCEMENTS = [
    (None, {}, "pending", {}),
    ("batch_update", {"batch_completed": 2, "total_batches": 5}, "batch_update",
     {"batch_completed": 2, "total_batches": 5}),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("message_status", "fields", "status", "expected_fields"), ANNOUNCEMENTS)
async def test_announce_sends_the_job_update_to_every_group_that_follows_the_job(
    message_status, fields, status, expected_fields, make_job, user
):
    job_id = await amake(make_job)(topic="news")
    groups = [job_group(job_id), topic_group("news"), user_jobs_group(user.pk), STAFF_JOBS_GROUP]
    listeners = [await listen(group) for group in groups]
    sent = await amake(announce.announce)(job_id, message_status, **fields)
    snapshot = await amake(lambda: json.loads(json.dumps(task_snapshot(TaskInfo.objects.get(pk=job_id)))))()
    assert sent["seq"] == snapshot["seq"]
    for layer, channel in listeners:
        event, message = await next_message(layer, channel)
        assert (event["type"], event["job_id"], event["seq"], event["owner_id"]) == (
            "task.updated", job_id, snapshot["seq"], user.pk)
        timestamp = message.pop("timestamp")
        assert "T" in timestamp
        assert message == {"type": "job_update", "job_id": job_id, "status": status, "seq": snapshot["seq"],
                           "task": snapshot, "progress": 0.0, "processed": 0, "total": 10, **expected_fields}


@pytest.mark.django_db(transaction=True)
def test_announcing_an_unknown_job_sends_nothing(recording):
    assert announce.announce("00000000-0000-0000-0000-000000000000") is None
    assert recording == []


@pytest.fixture
def recording(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.RecordingLayer"}}
    RecordingLayer.sent = []
    return RecordingLayer.sent


@pytest.fixture
def sick_layer(settings, recording):
    def use(kind: str, timeout: float = 0.3, backoff: float = 5.0):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"tests.realtime.layers.{kind}"}}
        settings.STATUSMSG = {**settings.STATUSMSG, "PUSH_TIMEOUT": timeout, "PUSH_BACKOFF": backoff}
        return recording

    return use


def test_sync_push_from_a_worker_thread_uses_the_publishers_own_loop(recording):
    assert publisher.publish_to_user(7, {"type": "notification.new"}) is True
    assert publisher.publish_to_user(7, {"type": "notification.new"}) is True
    assert recording == [("user.7", {"type": "notification.new"})] * 2


@pytest.mark.parametrize("kind", ["FailingLayer", "HangingLayer"])
def test_failed_push_returns_quickly_warns_and_pauses_pushes(kind, sick_layer, caplog):
    attempts = sick_layer(kind, timeout=0.3, backoff=5.0)
    caplog.set_level(logging.WARNING, logger="realtime.publisher")
    started = time.monotonic()
    assert publisher.publish_to_user(7, {"type": "x"}) is False
    assert time.monotonic() - started < 0.8
    assert "push failed groups=user.7" in caplog.text and "paused for 5.0s" in caplog.text
    started = time.monotonic()
    for _ in range(100):
        assert publisher.publish_to_user(7, {"type": "x"}) is False
    assert time.monotonic() - started < 0.05  # paused: not even tried
    # A send that fails at once is tried once more (a stale connection); one that hangs is not.
    assert len(attempts) == (2 if kind == "FailingLayer" else 1)


def test_a_push_that_fails_once_on_a_stale_connection_is_retried_and_pauses_nothing(sick_layer, caplog):
    attempts = sick_layer("StaleOnceLayer")
    StaleOnceLayer.failed = False
    assert publisher.publish_to_user(7, {"type": "x"}) is True
    assert publisher.publish_to_user(7, {"type": "y"}) is True
    assert attempts == [("user.7", {"type": "x"})] * 2 + [("user.7", {"type": "y"})]
    assert "push failed" not in caplog.text


def test_pushes_resume_after_the_backoff(sick_layer, settings):
    sick_layer("FailingLayer", backoff=0.2)
    assert publisher.publish_to_user(7, {"type": "x"}) is False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.RecordingLayer"}}
    assert publisher.publish_to_user(7, {"type": "x"}) is False  # still paused
    time.sleep(0.25)
    assert publisher.publish_to_user(7, {"type": "x"}) is True


@pytest.mark.django_db(transaction=True)
def test_missed_job_updates_are_sent_again_once_pushes_work(sick_layer, settings, make_job, caplog):
    job_id = make_job()
    sick_layer("FailingLayer", backoff=0.3)  # Redis goes down
    announce.announce(job_id, stage="one")  # fails: the layer is down
    TaskInfo.objects.filter(pk=job_id).update(processed_items=7, seq=F("seq") + 1)
    announce.announce(job_id, stage="two")  # paused: skipped
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.layers.RecordingLayer"}}
    RecordingLayer.sent.clear()
    wait_until = time.monotonic() + 3
    while not RecordingLayer.sent and time.monotonic() < wait_until:
        time.sleep(0.02)
    time.sleep(0.1)
    assert {group for group, _ in RecordingLayer.sent} >= {job_group(job_id), STAFF_JOBS_GROUP}
    events = [event for _, event in RecordingLayer.sent]
    latest = TaskInfo.objects.get(pk=job_id)
    assert all(event["job_id"] == job_id and event["seq"] == latest.seq for event in events)
    message = json.loads(events[0]["text"])
    assert message["status"] == "pending" and message["task"]["processed_items"] == 7  # the row's word and state


def redis_layer(settings, port: int):
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}", "socket_connect_timeout": 1,
                              "socket_timeout": 3}]},
    }}


@pytest.fixture
def black_hole():
    """A TCP port that accepts connections (the kernel's backlog) and never answers: a frozen Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("redis", ["closed_port", "black_hole"])
def test_a_job_completes_on_time_while_redis_is_down_or_frozen(redis, request, settings, user, caplog):
    redis_layer(settings, request.getfixturevalue(redis))
    settings.STATUSMSG = {**settings.STATUSMSG, "PROGRESS_INTERVAL": 0.0}  # a push per item
    task_id = lifecycle.create_task("bulk", total_items=len(ARTICLES), owner=user, params={"articles": ARTICLES})
    publisher._paused_until = 0.0  # the job itself meets the broken Redis first
    caplog.clear()
    started = time.monotonic()
    assert run_task(str(task_id)) == Status.COMPLETED
    elapsed = time.monotonic() - started
    # 300+ pushes were due; one paid the timeout (0.5 s at most), the rest were skipped.
    assert elapsed < 3, elapsed
    assert "push failed" in caplog.text
