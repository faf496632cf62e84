"""Throttled progress writes: bounded UPDATEs, first and last always written."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import lifecycle
from jobs.models import TaskInfo
from jobs.reporting import ProgressReporter

pytestmark = pytest.mark.django_db(transaction=True)


def progress_updates(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('UPDATE "jobs_taskinfo"') and "processed_items" in q["sql"])


def test_100k_progress_calls_make_bounded_writes_and_end_exact(make_task):
    total = 100_000
    task_id = make_task(total_items=total)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, total, interval=0.05)
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        for processed in range(1, total + 1):
            reporter(processed, current=f"item {processed}")
    duration = time.monotonic() - started
    writes = progress_updates(queries.captured_queries)
    assert writes == reporter.writes
    assert writes <= duration / 0.05 + 2
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.processed_items, task.progress, task.current_item) == (total, 100.0, f"item {total}")


def test_first_call_is_written_at_once(make_task):
    task_id = make_task(total_items=1000)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 1000, interval=3600)
    reporter(1, current="first")
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.processed_items, task.current_item, task.progress) == (1, "first", 0.1)


def test_throttled_value_is_written_by_flush(make_task):
    task_id = make_task(total_items=0)  # unknown total: no "last item" to detect
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 0, interval=3600)
    for processed in range(1, 501):
        reporter(processed)
    assert TaskInfo.objects.get(pk=task_id).processed_items == 1
    reporter.flush()
    assert TaskInfo.objects.get(pk=task_id).processed_items == 500
    assert reporter.writes == 2


def test_every_write_bumps_seq(make_task):
    task_id = make_task(total_items=3)
    lifecycle.start_task(task_id)
    seq = TaskInfo.objects.get(pk=task_id).seq
    reporter = ProgressReporter(task_id, 3, interval=0)
    for processed in (1, 2, 3):
        reporter(processed)
    assert TaskInfo.objects.get(pk=task_id).seq == seq + 3


def test_current_item_is_cut_to_a_bounded_size(make_task):
    task_id = make_task(total_items=2)
    lifecycle.start_task(task_id)
    ProgressReporter(task_id, 2, interval=0)(1, current="x" * 10_000)
    assert len(TaskInfo.objects.get(pk=task_id).current_item) == 500


def test_batch_report_is_kept_on_the_row_and_bounded(make_task):
    task_id = make_task(total_items=10)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 10, interval=0)
    for batch in range(1, 251):
        reporter.report_batch(batch, 250, saved=batch)
    batches = TaskInfo.objects.get(pk=task_id).metadata["batches"]
    assert len(batches) == 200
    assert batches[-1]["batch_completed"] == 250 and batches[-1]["saved"] == 250


def test_the_callback_a_job_gets_can_set_the_total_it_learns_late(make_task):
    from jobs.reporting import set_total

    task_id = make_task(total_items=0)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 0, interval=3600)
    set_total(reporter.update, 4)
    assert TaskInfo.objects.get(pk=task_id).total_items == 4
    reporter.update(1)
    reporter.update(4)  # the last item is written at once, now that the total is known
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.processed_items, task.progress) == (4, 100.0)


def test_set_total_and_report_batch_ignore_a_plain_function():
    from jobs.reporting import report_batch, set_total

    calls = []
    set_total(calls.append, 3)
    report_batch(calls.append, 1, 1)
    assert calls == []


def test_a_progress_write_is_one_statement_that_also_serves_the_cancel_check_and_the_snapshot(
    make_task, user, monkeypatch
):
    task_id = make_task(total_items=10)
    lifecycle.start_task(task_id)
    announced = []
    monkeypatch.setattr("jobs.announce.publisher.publish_job_message",
                        lambda message, owner_id, refresh=None: announced.append(message))
    # in_group as the worker knows it from the row it started (a chunk's writes are two, in a transaction).
    reporter = ProgressReporter(task_id, 10, interval=3600, owner=user, in_group=False)
    with CaptureQueriesContext(connection) as queries:
        reporter(3, current="item 3")
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    [message] = announced
    assert (message["task"]["processed_items"], message["task"]["owner"]) == (3, "alice")
    assert message["seq"] == TaskInfo.objects.get(pk=task_id).seq


def test_a_progress_write_that_finds_a_cancel_request_stops_the_job(make_task):
    from django.utils import timezone

    from jobs.exceptions import JobCancelled

    task_id = make_task(total_items=10)
    lifecycle.start_task(task_id)
    TaskInfo.objects.filter(pk=task_id).update(cancel_requested_at=timezone.now())
    reporter = ProgressReporter(task_id, 10, interval=0)
    with pytest.raises(JobCancelled):
        reporter(1)


class FakeClock:
    """A clock the test moves by hand, counting how often it is read."""

    def __init__(self):
        self.now = 1000.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def test_a_stop_requested_between_writes_stops_the_very_next_call(make_task):
    from jobs.exceptions import JobCancelled

    task_id = make_task(total_items=100_000)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 100_000, interval=3600)
    for processed in range(1, 5001):  # fast calls: the clock is read only every few calls by now
        reporter(processed)
    reporter.request_stop()  # what the heartbeat thread does
    with pytest.raises(JobCancelled):
        reporter(5001)
    assert reporter.processed == 5001
    with pytest.raises(JobCancelled):  # and every call after it
        reporter(5002)


def test_slow_calls_are_written_once_per_interval(make_task):
    task_id = make_task(total_items=1000)
    lifecycle.start_task(task_id)
    clock = FakeClock()
    reporter = ProgressReporter(task_id, 1000, interval=1.0, clock=clock)
    written_at = []
    for processed in range(1, 41):
        before = reporter.writes
        reporter(processed)
        if reporter.writes > before:
            written_at.append(round(clock.now - 1000.0, 1))
        clock.now += 0.3
    # The first call, then the first call at least one interval after the previous write.
    assert written_at == [0.0, 1.2, 2.4, 3.6, 4.8, 6.0, 7.2, 8.4, 9.6, 10.8]


def test_fast_calls_read_the_clock_rarely_and_still_write_about_once_per_interval(make_task):
    task_id = make_task(total_items=1_000_000)
    lifecycle.start_task(task_id)
    clock = FakeClock()
    reporter = ProgressReporter(task_id, 1_000_000, interval=0.01, clock=clock)
    calls = 100_000
    for processed in range(1, calls + 1):
        reporter(processed)
        clock.now += 1e-6  # 10,000 calls per interval
    assert clock.reads <= calls / 16
    # One write per interval (plus the first), each late by at most a few dozen calls.
    assert 9 <= reporter.writes <= 11
    assert TaskInfo.objects.get(pk=task_id).processed_items >= calls - 10_000


def test_the_callback_carries_set_total_and_report_batch(make_task):
    task_id = make_task(total_items=0)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 0, interval=3600)
    assert reporter.update.set_total.__self__ is reporter
    assert reporter.update.report_batch.__self__ is reporter


def test_a_total_set_after_fast_calls_writes_the_last_item_at_once(make_task):
    task_id = make_task(total_items=0)
    lifecycle.start_task(task_id)
    reporter = ProgressReporter(task_id, 0, interval=3600)
    for processed in range(1, 1001):
        reporter.update(processed)
    reporter.set_total(1001)
    reporter.update(1001)
    task = TaskInfo.objects.get(pk=task_id)
    assert (task.processed_items, task.progress) == (1001, 100.0)


def test_flush_writes_nothing_for_a_job_that_reported_nothing(make_task):
    task_id = make_task(total_items=0)
    lifecycle.start_task(task_id)
    seq = TaskInfo.objects.get(pk=task_id).seq
    reporter = ProgressReporter(task_id, 0, interval=3600)
    with CaptureQueriesContext(connection) as queries:
        reporter.flush()
    assert (queries.captured_queries, reporter.writes) == ([], 0)
    assert TaskInfo.objects.get(pk=task_id).seq == seq
