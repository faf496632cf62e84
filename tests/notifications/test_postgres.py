"""On PostgreSQL: concurrent marks and counts stay exact, and the hot queries use the indexes."""

import random
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import queries, services
from notifications.models import Notification, NotificationReceipt

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_in_threads(functions):
    """Run each function in its own thread, all released together; return results, re-raise errors."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def seed(user, other_user, own=20, system=20):
    for n in range(own):
        services.create_notification(user, "system", f"own {n}", "x")
    for n in range(system):
        services.create_notification(None, "system", f"notice {n}", "x")
    services.create_notification(other_user, "system", "theirs", "x")
    return own + system


def test_parallel_mark_all_counts_each_notification_exactly_once(user, other_user):
    unread = seed(user, other_user)
    results = run_in_threads([lambda: services.mark_all_notifications_as_read(user)] * 6)
    assert sum(results) == unread
    assert queries.get_unread_count(user) == 0
    assert queries.get_unread_count(other_user) == 21
    assert NotificationReceipt.objects.filter(user=user).count() == 20


def test_parallel_mark_read_and_counts_never_go_wrong_or_negative(user, other_user):
    unread = seed(user, other_user)
    ids = [row.pk for row in queries.get_user_notifications(user, limit=200)]
    observed: list[list[int]] = []

    def marker(seed_value):
        def mark():
            order = ids[:]
            random.Random(seed_value).shuffle(order)
            return [services.mark_notification_as_read(pk, user) for pk in order]
        return mark

    def counter():
        seen = [queries.get_unread_count(user) for _ in range(40)]
        observed.append(seen)
        return seen

    results = run_in_threads([marker(n) for n in range(4)] + [counter] * 3
                             + [lambda: services.mark_all_notifications_as_read(user)])
    assert all(all(result) for result in results[:4])  # every mark of a visible row succeeds
    for seen in observed:
        assert all(0 <= count <= unread for count in seen)
        assert seen == sorted(seen, reverse=True)  # only marks happen: the count never rises
    assert queries.get_unread_count(user) == 0
    assert queries.get_unread_count(other_user) == 21
    assert NotificationReceipt.objects.filter(user=user).count() == 20  # no duplicate receipts


def test_parallel_delete_and_mark_of_a_system_notice_leave_one_receipt(user):
    notice = services.create_notification(None, "system", "notice", "x")
    results = run_in_threads([lambda: services.mark_notification_as_read(notice, user),
                              lambda: services.delete_notification(notice, user)] * 3)
    receipt = NotificationReceipt.objects.get(user=user, notification_id=notice)
    assert receipt.hidden_at is not None
    assert results.count(True) >= 1
    assert queries.get_unread_count(user) == 0


# --- the plans --------------------------------------------------------------------------


def load_volume(users=200, per_user=100, system=200):
    """Bulk-load enough rows that the planner has a real choice to make."""
    User = get_user_model()
    User.objects.bulk_create([User(username=f"load{n}") for n in range(users)])
    table = Notification._meta.db_table
    receipts = NotificationReceipt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, type, title, message, link, read, created_at) "
            f"SELECT u.id, 'system', 'n', '', '', g %% 3 = 0, now() - g * interval '1 minute' "
            f"FROM auth_user u CROSS JOIN generate_series(1, %s) g",
            [per_user],
        )
        cursor.execute(
            f"INSERT INTO {table} (user_id, type, title, message, link, read, created_at) "
            f"SELECT NULL, 'system', 'notice', '', '', false, now() - g * interval '1 hour' "
            f"FROM generate_series(1, %s) g",
            [system],
        )
        cursor.execute(
            f"INSERT INTO {receipts} (notification_id, user_id, read_at, hidden_at) "
            f"SELECT n.id, u.id, now(), NULL FROM {table} n CROSS JOIN auth_user u "
            f"WHERE n.user_id IS NULL AND (n.id + u.id) %% 4 = 0", []
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {receipts}")


def plans_of(function) -> str:
    """Run function, then EXPLAIN every query it ran; return the plans joined."""
    with CaptureQueriesContext(connection) as captured:
        function()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def test_unread_count_and_first_page_use_the_indexes(user):
    load_volume()
    services.create_notification(user, "system", "mine", "x")
    count_plan = plans_of(lambda: queries.get_unread_count(user))
    page_plan = plans_of(lambda: queries.get_user_notifications(user, limit=50))
    unread_page_plan = plans_of(lambda: queries.get_user_notifications(user, unread_only=True, limit=50))
    print("unread count:\n", count_plan, "\n\nfirst page:\n", page_plan, "\n\nunread page:\n", unread_page_plan)
    table = Notification._meta.db_table
    for plan in (count_plan, page_plan, unread_page_plan):
        assert f"Seq Scan on {table}" not in plan
    # Own rows through (user, read, …), system-wide through the partial index, this user's
    # receipts through the unique (user, notification) index.
    assert {"notif_user_read_new", "notif_system_new", "notif_receipt_once"} <= indexes_in(count_plan)
    assert {"notif_user_new", "notif_system_new", "notif_receipt_once"} <= indexes_in(page_plan)
    assert {"notif_user_read_new", "notif_system_new"} <= indexes_in(unread_page_plan)


def indexes_in(plan: str) -> set[str]:
    return set(re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using |on )(\w+)", plan))


@pytest.mark.parametrize("use_case", ["mark_notification_as_read", "delete_notification"])
def test_a_notice_deleted_by_staff_midway_gives_false_not_an_error(user, monkeypatch, use_case):
    notice = services.create_notification(None, "system", "notice", "x")
    original = services._visible_row
    deleted = []

    def visible_then_deleted(notification_id, who):
        row = original(notification_id, who)
        if not deleted:  # staff deletes the notice after we read it, before we commit
            deleted.append(True)
            run_in_threads([lambda: services.delete_by_staff([notice])])
        return row

    monkeypatch.setattr(services, "_visible_row", visible_then_deleted)
    assert getattr(services, use_case)(notice, user) is False
    assert not NotificationReceipt.objects.exists()


def test_mark_all_while_staff_deletes_a_notice_still_marks_the_rest(user, monkeypatch):
    notices = [services.create_notification(None, "system", f"notice {n}", "x") for n in range(3)]
    original = services._insert_receipts
    deleted = []

    def insert_then_deleted(who, read_at):
        inserted = original(who, read_at)
        if not deleted:
            deleted.append(True)
            run_in_threads([lambda: services.delete_by_staff([notices[0]])])
        return inserted

    monkeypatch.setattr(services, "_insert_receipts", insert_then_deleted)
    assert services.mark_all_notifications_as_read(user) == 2
    assert queries.get_unread_count(user) == 0
