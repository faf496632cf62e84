"""Benchmark the unread count and the first inbox page on PostgreSQL at inbox scale.

Loads (by default) 1,000,000 notifications over 10,000 users plus 1,000 system-wide notices
with per-user receipts into its own database, then times, for random users:
  - the use cases as shipped (notifications.services: counts in SQL, composite + partial
    indexes, the first page as two index range scans merged);
  - the naive versions in the same run, on a copy of the table with only a plain user_id index
    (as a ForeignKey gives): one `user = ? OR user IS NULL` query, read state and count in Python.
  - the unread count end to end through the REST endpoint (GET /api/notifications/unread-count/
    with Django's test client: URL routing, every middleware, DRF authentication, the view,
    JSON rendering), authenticated by token and by session.
Variants are timed in turn for each sampled user, so other load on the machine hits all alike.
Prints p50 / p99 in milliseconds and the EXPLAIN ANALYZE plans, then where a REST request's
time goes: its SQL statements and their time, and cProfile's top entries.
Targets: p50 < 2 ms for the count, and for the count through the REST endpoint.

    .venv/bin/python bench/notifications.py [--users 10000] [--per-user 100] [--system 1000]
        [--iterations 400] [--reload] [--rest-only]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/statusmsg_bench_notif) names
the database; it is created if missing and its notification tables are reloaded when the
sizes differ (or with --reload). REDIS_URL (default redis://127.0.0.1:6379/1) is the Redis
the API throttles count in.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/statusmsg_bench_notif")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "false")  # as in production: Django does not log every query
# The REST requests go through the API throttles, which count in Redis.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CHANNEL_PREFIX", f"benchnotif{os.getpid()}")
# Settings refuse the development key when DEBUG is off.
os.environ.setdefault("SECRET_KEY", __import__("secrets").token_urlsafe(50))


def ensure_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q

from notifications import queries
from notifications.models import Notification, NotificationReceipt

NOTIFICATIONS = Notification._meta.db_table
RECEIPTS = NotificationReceipt._meta.db_table
COMPOSITE_INDEXES = ["notif_user_read_new", "notif_user_new", "notif_system_new"]


def sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


def loaded_sizes() -> tuple:
    return tuple(sql(
        f"SELECT (SELECT count(*) FROM auth_user WHERE username LIKE 'bench%%'),"
        f" (SELECT count(*) FROM {NOTIFICATIONS} WHERE user_id IS NOT NULL),"
        f" (SELECT count(*) FROM {NOTIFICATIONS} WHERE user_id IS NULL)"
    )[0])


def load(users: int, per_user: int, system: int) -> None:
    """Bulk-load with INSERT … SELECT generate_series: no row passes through Python."""
    started = time.perf_counter()
    sql(f"TRUNCATE {RECEIPTS}, {NOTIFICATIONS} RESTART IDENTITY")
    sql("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
    sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
        " is_active, date_joined) SELECT '!', false, 'bench' || g, '', '', '', false, true, now()"
        " FROM generate_series(1, %s) g",
        [users],
    )
    # Ordered by time, not by user: like a real inbox table, one user's rows are spread
    # over the whole heap, so the plans pay for scattered reads as production would.
    sql(
        f"INSERT INTO {NOTIFICATIONS} (user_id, type, title, message, link, read, created_at)"
        " SELECT u.id, 'task_complete', 'Bulk save completed', 'saved: 10, duplicates: 0, errors: 0',"
        "  '/tasks/' || g || '/', random() < 0.8, now() - (g * interval '1 hour') - random() * interval '1 hour'"
        " FROM auth_user u CROSS JOIN generate_series(1, %s) g WHERE u.username LIKE 'bench%%'"
        " ORDER BY 7",
        [per_user],
    )
    sql(
        f"INSERT INTO {NOTIFICATIONS} (user_id, type, title, message, link, read, created_at)"
        " SELECT NULL, 'system', 'Maintenance window', 'The service restarts at 02:00.', '', false,"
        "  now() - (g * interval '1 hour') * %s / %s FROM generate_series(1, %s) g",
        [per_user, system, system],
    )
    # Receipts: each user has read about 10 % of the notices and hidden a few of them.
    sql(
        f"INSERT INTO {RECEIPTS} (notification_id, user_id, read_at, hidden_at)"
        f" SELECT n.id, u.id, now(), CASE WHEN (n.id + u.id) %% 50 = 0 THEN now() END"
        f" FROM {NOTIFICATIONS} n CROSS JOIN auth_user u"
        f" WHERE n.user_id IS NULL AND u.username LIKE 'bench%%' AND (n.id * 7 + u.id) %% 10 = 0"
    )
    connection.close()
    with connection.cursor() as cursor:  # VACUUM cannot run in a transaction block
        cursor.execute(f"VACUUM ANALYZE {NOTIFICATIONS}")
        cursor.execute(f"VACUUM ANALYZE {RECEIPTS}")
        cursor.execute("VACUUM ANALYZE auth_user")
    receipts = sql(f"SELECT count(*) FROM {RECEIPTS}")[0][0]
    print(f"loaded in {time.perf_counter() - started:.1f} s: {receipts:,} receipts")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.3f} ms   p99 {p99 * 1000:7.3f} ms"


def captured_sql(function, user) -> list[str]:
    """Run function(user) and return the SQL statements it sent, parameters inlined."""
    from django.test.utils import CaptureQueriesContext

    # The query log keeps 9,000 entries; once full, a capture sees nothing. Start empty.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        function(user)
    return [query["sql"] for query in captured.captured_queries]


def timed_round_robin(variants: dict, user_ids: list[int]) -> dict[str, list[float]]:
    """Time each variant once per user, in turn; return the samples per variant."""
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=user_ids))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for index, user in enumerate(users[:20] + users):  # the first 20 warm up
        for name, function in variants.items():
            started = time.perf_counter()
            function(user)
            elapsed = time.perf_counter() - started
            if index >= 20:
                samples[name].append(elapsed)
    return samples


def timed_sql(function, user_ids: list[int]) -> list[float]:
    """Time only executing the SQL that function sends, captured for each user beforehand."""
    from django.contrib.auth import get_user_model

    statements = [captured_sql(function, user) for user in get_user_model().objects.filter(pk__in=user_ids)]
    samples = []
    with connection.cursor() as cursor:
        for batch in statements[:20] + statements:  # the first 20 warm up, as in timed()
            started = time.perf_counter()
            for statement in batch:
                cursor.execute(statement)
                cursor.fetchall()
            samples.append(time.perf_counter() - started)
    return samples[20:]


def server_times(function, user_ids: list[int]) -> list[float]:
    """Return, per user, the database's own execution time of the SQL function sends (seconds).

    From EXPLAIN (ANALYZE): no Python, no network, so the figure other load on the
    machine disturbs least.
    """
    from django.contrib.auth import get_user_model

    samples = []
    with connection.cursor() as cursor:
        for user in get_user_model().objects.filter(pk__in=user_ids):
            total = 0.0
            for statement in captured_sql(function, user):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement)
                total += cursor.fetchone()[0][0]["Execution Time"]
            samples.append(total / 1000)
    return samples


# --- the naive versions (what the inherited design did) -------------------------------
#
# They run on a copy of the notification table that has only a plain user_id index (what a
# ForeignKey gives): no composite or partial index. Receipts are shared, since the naive
# design has none and reading them per user is the least it would need.

NAIVE_TABLE = "bench_naive_notification"


class NaiveNotification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING,
                             db_constraint=False, related_name="+")
    type = models.CharField(max_length=50)
    title = models.CharField(max_length=255)
    message = models.TextField()
    link = models.CharField(max_length=500)
    read = models.BooleanField()
    created_at = models.DateTimeField()

    class Meta:
        app_label = "notifications"
        managed = False
        db_table = NAIVE_TABLE


def build_naive_table(rebuild: bool) -> None:
    exists = sql("SELECT to_regclass(%s) IS NOT NULL", [NAIVE_TABLE])[0][0]
    if exists and not rebuild and sql(f"SELECT count(*) FROM {NAIVE_TABLE}")[0][0] == Notification.objects.count():
        return
    sql(f"DROP TABLE IF EXISTS {NAIVE_TABLE}")
    sql(f"CREATE TABLE {NAIVE_TABLE} AS SELECT * FROM {NOTIFICATIONS}")
    sql(f"ALTER TABLE {NAIVE_TABLE} ADD PRIMARY KEY (id)")
    sql(f"CREATE INDEX {NAIVE_TABLE}_user ON {NAIVE_TABLE} (user_id)")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {NAIVE_TABLE}")


def naive_receipts(user) -> dict:
    return {row[0]: row[1:] for row in
            NotificationReceipt.objects.filter(user=user).values_list("notification_id", "read_at", "hidden_at")}


def naive_unread_count(user) -> int:
    """Load every row the user sees and count the unread ones in Python."""
    receipts = naive_receipts(user)
    unread = 0
    for pk, user_id, read in NaiveNotification.objects.filter(Q(user=user) | Q(user__isnull=True)).values_list(
            "id", "user_id", "read"):
        if user_id is None:
            read_at, hidden_at = receipts.get(pk, (None, None))
            unread += hidden_at is None and read_at is None
        else:
            unread += not read
    return unread


def naive_first_page(user, limit=50):
    """Load every row the user sees, newest first, and keep the first visible 50."""
    receipts = naive_receipts(user)
    page = []
    for row in NaiveNotification.objects.filter(Q(user=user) | Q(user__isnull=True)).order_by("-created_at", "-id"):
        if row.user_id is None:
            read_at, hidden_at = receipts.get(row.pk, (None, None))
            if hidden_at is not None:
                continue
            row.read_by_user = read_at is not None
        else:
            row.read_by_user = row.read
        page.append(row)
        if len(page) == limit:
            break
    return page


def sql_count_without_composite_index(user) -> int:
    """The shipped single-statement count, run on the table without the composite indexes."""
    seen = NotificationReceipt.objects.filter(user=user, notification=OuterRef("pk")).filter(
        Q(read_at__isnull=False) | Q(hidden_at__isnull=False))
    return NaiveNotification.objects.filter(Q(user=user, read=False) | (Q(user__isnull=True) & ~Exists(seen))).count()


def explain(function, user) -> str:

    plans = []
    for statement in captured_sql(function, user):
        rows = sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement)
        plans.append("\n".join("    " + row[0] for row in rows))
    return "\n  --\n".join(plans)


# --- the unread count through the REST endpoint -------------------------------------------

def rest_variants(user_ids: list[int]) -> tuple[dict, list]:
    """Return the REST variants (token and session auth) for user_ids, and the sessions to delete."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from rest_framework.authtoken.models import Token

    url = reverse("notifications:unread-count")
    users = list(get_user_model().objects.filter(pk__in=user_ids))
    tokens = {token.user_id: token.key for token in Token.objects.filter(user_id__in=user_ids)}
    Token.objects.bulk_create([Token(user=user, key=Token.generate_key()) for user in users if user.pk not in tokens])
    tokens = {token.user_id: token.key for token in Token.objects.filter(user_id__in=user_ids)}
    token_client = Client()
    session_clients = {}
    for user in users:
        session_clients[user.pk] = Client()
        session_clients[user.pk].force_login(user)
    sessions = [client.session.session_key for client in session_clients.values()]

    def by_token(user):
        response = token_client.get(url, headers={"authorization": f"Token {tokens[user.pk]}"})
        assert response.status_code == 200, response.status_code
        return response

    def by_session(user):
        response = session_clients[user.pk].get(url)
        assert response.status_code == 200, response.status_code
        return response

    shipped_count = queries.get_unread_count
    precompiled_count = precompiled_unread_count()

    def by_token_precompiled(user):
        # The same request, with the view's count swapped for the prototype below.
        queries.get_unread_count = precompiled_count
        try:
            return by_token(user)
        finally:
            queries.get_unread_count = shipped_count

    probe = users[0]
    for user in users[:20]:
        assert precompiled_count(user) == shipped_count(user)
    assert by_token(probe).json()["count"] == queries.get_unread_count(probe)
    assert by_session(probe).json()["count"] == queries.get_unread_count(probe)
    assert by_token_precompiled(probe).json()["count"] == queries.get_unread_count(probe)
    return {"unread count via REST, token auth (test client, end to end)": by_token,
            "unread count via REST, session auth (test client, end to end)": by_session,
            "unread count via REST, token auth, count precompiled (prototype)": by_token_precompiled}, sessions


def precompiled_unread_count():
    """Return a prototype get_unread_count: the shipped query's SQL, built once, sent with the user's id.

    What it measures is the ORM's cost of building and compiling the count (an OR over an
    Exists subquery) on every call; a change to notifications/ could keep the SQL text once.
    """
    compiled: dict = {}

    def count(user) -> int:
        if not compiled:
            sql, params = Notification.objects.unread_for(user).values("pk").query.sql_with_params()
            compiled["sql"] = f"SELECT COUNT(*) FROM ({sql}) AS unread"
            compiled["params"] = list(params)
            compiled["user_slots"] = [index for index, value in enumerate(params)
                                      if type(value) is int and value == user.pk]
        params = list(compiled["params"])
        for index in compiled["user_slots"]:
            params[index] = user.pk
        with connection.cursor() as cursor:
            cursor.execute(compiled["sql"], params)
            return cursor.fetchone()[0]

    return count


def rest_breakdown(variants: dict, user_ids: list[int]) -> None:
    """Print where a REST request's time goes: SQL statements and their time, then cProfile."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=user_ids))
    for name, function in variants.items():
        statements: list[str] = []
        sql_time = [0.0]

        def timed(execute, sql_text, params, many, context, statements=statements, sql_time=sql_time):
            started = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                sql_time[0] += time.perf_counter() - started
                statements.append(sql_text)

        totals = []
        with connection.execute_wrapper(timed):
            for user in users:
                started = time.perf_counter()
                function(user)
                totals.append(time.perf_counter() - started)
        print(f"\n{name}: {len(statements) / len(users):.1f} SQL statements/request, "
              f"mean {statistics.mean(totals) * 1000:.3f} ms/request of which SQL "
              f"{sql_time[0] / len(users) * 1000:.3f} ms"
              f" (round trip and execution), Python {(sum(totals) - sql_time[0]) / len(users) * 1000:.3f} ms")
        for statement in dict.fromkeys(" ".join(s.split())[:150] for s in statements[-6:]):
            print(f"    {statement}")
        profiler = cProfile.Profile()
        profiler.enable()
        for user in users:
            function(user)
        profiler.disable()
        for order, count in (("cumulative", 30), ("tottime", 12)):
            output = io.StringIO()
            pstats.Stats(profiler, stream=output).strip_dirs().sort_stats(order).print_stats(count)
            lines = [line for line in output.getvalue().splitlines() if line.strip()]
            table = lines[lines.index(next(line for line in lines if "ncalls" in line)):]
            print(f"  cProfile over {len(users)} requests, top {count} by {order} time:")
            print("\n".join("    " + line for line in table))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=100)
    parser.add_argument("--system", type=int, default=1_000)
    parser.add_argument("--iterations", type=int, default=400, help="users sampled per measurement")
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--rest-only", action="store_true", help="time only the count, in SQL and through REST")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    wanted = (args.users, args.users * args.per_user, args.system)
    if args.reload or loaded_sizes() != wanted:
        print(f"loading {wanted[1]:,} notifications over {args.users:,} users + {args.system:,} system-wide ...")
        load(args.users, args.per_user, args.system)
    else:
        print(f"reusing the loaded data: {wanted[1]:,} notifications, {args.users:,} users, "
              f"{args.system:,} system-wide")

    all_ids = [row[0] for row in sql("SELECT id FROM auth_user WHERE username LIKE 'bench%%'")]
    rng = random.Random(42)
    sample = rng.sample(all_ids, min(args.iterations, len(all_ids)))

    from django.contrib.auth import get_user_model

    build_naive_table(rebuild=args.reload)
    probe = get_user_model().objects.get(pk=sample[0])
    page = queries.get_user_notifications(probe)
    assert queries.get_unread_count(probe) == naive_unread_count(probe)
    assert [row.pk for row in page] == [row.pk for row in naive_first_page(probe)], "naive page differs"

    rest, sessions = rest_variants(sample)
    variants = {
        "baseline: the cheapest ORM query (one user by pk)":
            lambda user: get_user_model().objects.filter(pk=user.pk).exists(),
        "unread count (shipped: SQL count on the indexes)": queries.get_unread_count,
        **rest,
    }
    if not args.rest_only:
        variants.update({
            "unread count (naive: no composite index, counted in Python)": naive_unread_count,
            "unread count (SQL count, but no composite index)": sql_count_without_composite_index,
            "first page of 50 (shipped: UNION ALL of two index range scans)": queries.get_user_notifications,
            "first page of 50 (naive: one OR query, sorted, read state in Python)": naive_first_page,
        })
    # Round robin, user by user: other load on the machine then falls on every variant alike.
    results = timed_round_robin(variants, sample)
    if args.rest_only:
        results["  shipped unread count, SQL round trip only"] = timed_sql(queries.get_unread_count, sample)
        report(results)
        rest_breakdown(rest, sample[:200])
        delete_sessions(sessions)
        return
    # The same statements without Django: what the database and the round trip cost.
    results["  shipped unread count, SQL round trip only"] = timed_sql(queries.get_unread_count, sample)
    results["  shipped first page, SQL round trip only"] = timed_sql(queries.get_user_notifications, sample)
    for name, function in [("shipped unread count", queries.get_unread_count),
                           ("naive unread count", naive_unread_count),
                           ("SQL count without composite index", sql_count_without_composite_index),
                           ("shipped first page", queries.get_user_notifications),
                           ("naive first page", naive_first_page)]:
        results[f"  {name}, execution inside PostgreSQL"] = server_times(function, sample)

    print(f"\nEXPLAIN ANALYZE, shipped, user id={probe.pk}")
    print("  unread count:\n" + explain(queries.get_unread_count, probe))
    print("  first page:\n" + explain(queries.get_user_notifications, probe))
    print(f"\nEXPLAIN ANALYZE, naive (table {NAIVE_TABLE}: only a user_id index), user id={probe.pk}")
    print("  unread count:\n" + explain(naive_unread_count, probe))
    print("  first page:\n" + explain(naive_first_page, probe))

    report(results)
    rest_breakdown(rest, sample[:200])
    delete_sessions(sessions)


def report(results: dict[str, list[float]]) -> None:
    print(f"\n{'query':<72} timings over random users")
    for name, samples in results.items():
        print(f"{name:<72} {percentiles(samples)}   (n={len(samples)})")
    for name, samples in results.items():
        if "via REST" in name:
            p50 = statistics.median(samples) * 1000
            print(f"{name}: p50 {p50:.3f} ms (target <= 2 ms: {'met' if p50 <= 2 else 'missed'})")


def delete_sessions(keys: list[str]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


if __name__ == "__main__":
    main()
