"""Benchmark the unread count and the first inbox page on PostgreSQL at inbox scale.

Loads (by default) 1,000,000 notifications over 10,000 users plus 1,000 system-wide notices
with per-user receipts into its own database, then times, for random users:
  - the use cases as shipped (notifications.services: counts in SQL, composite + partial
    indexes, the first page as two index range scans merged);
  - the naive versions in the same run, on a copy of the table with only a plain user_id index
    (as a ForeignKey gives): one `user = ? OR user IS NULL` query, read state and count in Python.
  - the unread count end to end through the REST endpoint (GET /api/notifications/unread-count/
    with Django's test client: URL routing, every middleware, DRF authentication, the view,
    JSON rendering), authenticated by token and by session; beside it, in the same run, the
    same request as the view was before (the count built by the ORM on every call, DRF's
    get + set user throttle), one without the per-user limit (what that limit costs), and a
    prototype with the token lookup precompiled (a change that would go in
    statusmsg/authentication.py, measured here before anyone makes it).
Variants are timed in turn for each sampled user, so other load on the machine hits all alike,
after each sampled inbox was read once (a polled count finds its rows in memory).
Prints p50 / p99 in milliseconds (and this thread's CPU, which others' load inflates least)
beside the targets, the EXPLAIN ANALYZE plans, then where a REST request's time goes: each
stage's own time (test client, middleware, URL routing, DRF's steps, the view, rendering,
the SQL and cache round trips wherever sent), its SQL statements, and cProfile's top entries.
Targets: p50 <= 2 ms for the count, and for the count through the REST endpoint. On a shared
machine the wall clock rises with others' load; the same-run comparisons still hold.

    .venv/bin/python bench/notifications.py [--users 10000] [--per-user 100] [--system 1000]
        [--iterations 400] [--reload] [--rest-only]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/statusmsg_bench_notif) names
the database; it is created if missing and its notification tables are reloaded when the
sizes differ (or with --reload). REDIS_URL (default redis://127.0.0.1:6379/1) is the Redis
the API throttles count in.
"""

import argparse
import collections
import contextlib
import functools
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
from rest_framework.settings import api_settings

from notifications import queries, views
from notifications.models import Notification, NotificationReceipt
from statusmsg.authentication import TokenAuthentication, is_token_key
from statusmsg.throttling import AnonRateThrottle

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


def timed_round_robin(variants: dict, user_ids: list[int]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time each variant once per user, in turn; return the wall-clock and the CPU samples per variant.

    CPU is this thread's own (time.thread_time): what other load on the machine inflates
    least, where the wall clock also counts waiting for PostgreSQL, Redis and a free core.
    """
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=user_ids))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    cpu_samples: dict[str, list[float]] = {name: [] for name in variants}
    for index, user in enumerate(users[:20] + users):  # the first 20 warm up
        for name, function in variants.items():
            started, cpu_started = time.perf_counter(), time.thread_time()
            function(user)
            elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            if index >= 20:
                samples[name].append(elapsed)
                cpu_samples[name].append(cpu)
    return samples, cpu_samples


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

TOKEN_VARIANT = "unread count via REST, token auth (test client, end to end)"
SESSION_VARIANT = "unread count via REST, session auth (test client, end to end)"
BEFORE_VARIANT = "unread count via REST, token auth, as before (ORM count, DRF throttle)"
NO_USER_THROTTLE_VARIANT = "unread count via REST, token auth, no per-user throttle (reference)"
TOKEN_PROTOTYPE_VARIANT = "unread count via REST, token auth, token lookup precompiled (prototype)"


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

    def by_token_as_before(user):
        # The same request as the view was before: the count built by the ORM on every call,
        # and DRF's per-user throttle (a cache get and set). Timed in the same run, so the
        # comparison holds whatever else loads the machine.
        with patched(queries, "get_unread_count", lambda who: Notification.objects.unread_for(who).count()), \
                patched(views.UnreadCountView, "throttle_classes", api_settings.DEFAULT_THROTTLE_CLASSES):
            return by_token(user)

    def by_token_without_user_throttle(user):
        with patched(views.UnreadCountView, "throttle_classes", [AnonRateThrottle]):
            return by_token(user)

    token_lookup = precompiled_token_lookup()

    def by_token_with_token_lookup_precompiled(user):
        with patched(TokenAuthentication, "authenticate_credentials", token_lookup):
            return by_token(user)

    variants = {
        TOKEN_VARIANT: by_token,
        SESSION_VARIANT: by_session,
        BEFORE_VARIANT: by_token_as_before,
        NO_USER_THROTTLE_VARIANT: by_token_without_user_throttle,
        TOKEN_PROTOTYPE_VARIANT: by_token_with_token_lookup_precompiled,
    }
    probe = users[0]
    for user in users[:20]:
        assert queries.get_unread_count(user) == Notification.objects.unread_for(user).count()
    for variant in variants.values():
        assert variant(probe).json() == {"count": queries.get_unread_count(probe)}
    return variants, sessions


def precompiled_token_lookup():
    """Return a prototype TokenAuthentication.authenticate_credentials: its SQL built once, sent with the key.

    What it measures is the ORM's cost of building and compiling DRF's
    `Token.objects.select_related("user").get(key=…)` on every request; the change would
    belong to statusmsg/authentication.py, as the count's did to notifications/queries.py.
    """
    from django.contrib.auth import get_user_model
    from rest_framework import exceptions
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    placeholder = "0" * 40
    sql_text, params = Token.objects.select_related("user").filter(key=placeholder).query.sql_with_params()
    assert list(params) == [placeholder], params
    token_fields = [field.attname for field in Token._meta.concrete_fields]
    user_fields = [field.attname for field in user_model._meta.concrete_fields]

    def authenticate_credentials(self, key):
        if not is_token_key(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        with connection.cursor() as cursor:
            cursor.execute(sql_text, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = Token.from_db(connection.alias, token_fields, row[:len(token_fields)])
        token.user = user_model.from_db(connection.alias, user_fields, row[len(token_fields):])
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token

    return authenticate_credentials


@contextlib.contextmanager
def patched(owner, name: str, value):
    """Set owner.name to value inside the block."""
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


# The stages a REST request is cut into, innermost last: (owner, attribute, stage). Each one's
# time is its own, less the stages inside it; SQL and cache are cut out wherever they happen.
def request_stages() -> list[tuple]:
    from django.core.handlers.base import BaseHandler
    from redis.client import Pipeline, Redis
    from rest_framework.response import Response
    from rest_framework.views import APIView

    return [
        (BaseHandler, "get_response", "middleware (settings.MIDDLEWARE), handler"),
        (BaseHandler, "resolve_request", "URL routing"),
        (APIView, "dispatch", "DRF: request wrapper, negotiation, headers"),
        (APIView, "perform_authentication", "DRF: authentication"),
        (APIView, "check_permissions", "DRF: permissions"),
        (APIView, "check_throttles", "DRF: throttles"),
        (views.UnreadCountView, "get", "the view: the count, the Response"),
        (Response, "rendered_content", "rendering (JSONRenderer)"),
        (Redis, "execute_command", "cache"),
        (Pipeline, "execute", "cache"),
    ]


OUTSIDE = "test client (builds the request, reads the answer)"


def stage_times(function, users) -> tuple[dict, dict, dict]:
    """Run function(user) for each user, every stage timed; return per request, per stage: own ms, calls, SQL ms."""
    own: collections.Counter = collections.Counter()
    sql_within: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    stack: list[list] = []  # [stage, time spent in stages inside it]

    def enter_and_time(stage, call):
        stack.append([stage, 0.0])
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            _, inner = stack.pop()
            own[stage] += elapsed - inner
            calls[stage] += 1
            if stack:
                stack[-1][1] += elapsed
                if stage == "SQL":
                    sql_within[stack[-1][0]] += elapsed

    def timing(stage, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            return enter_and_time(stage, lambda: function(*args, **kwargs))
        return timed

    patches = []
    for owner, name, stage in request_stages():
        original = owner.__dict__[name]
        if isinstance(original, property):
            replacement = property(timing(stage, original.fget))
        else:
            replacement = timing(stage, original)
        patches.append(patched(owner, name, replacement))
    with contextlib.ExitStack() as stack_of_patches:
        for patch in patches:
            stack_of_patches.enter_context(patch)
        stack_of_patches.enter_context(connection.execute_wrapper(
            lambda execute, *args: enter_and_time("SQL", lambda: execute(*args))))
        for user in users:
            enter_and_time(OUTSIDE, functools.partial(function, user))
    count = len(users)
    return ({stage: spent / count * 1000 for stage, spent in own.items()},
            {stage: made / count for stage, made in calls.items()},
            {stage: spent / count * 1000 for stage, spent in sql_within.items()})


def rest_breakdown(variants: dict, user_ids: list[int]) -> None:
    """Print where a REST request's time goes, stage by stage, then cProfile's top entries."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=user_ids))
    for name, function in variants.items():
        own, calls, sql_within = stage_times(function, users)
        print(f"\n{name}: where a request's time goes (mean over {len(users)} requests; each stage's"
              f" own time, the stages inside it taken out)")
        print(f"    {'stage':<50} {'ms':>6} {'share':>6}   SQL it sent (in the SQL row)")
        total = sum(own.values())
        order = [OUTSIDE, *dict.fromkeys(stage for _, _, stage in request_stages()), "SQL"]
        for stage in order:
            if stage not in own:
                continue
            label = stage
            if stage in ("SQL", "cache"):
                label = f"{stage} round trips ({calls[stage]:.1f}/request, wherever sent)"
            within = f"{sql_within[stage]:.3f} ms" if sql_within.get(stage) else ""
            print(f"    {label:<50} {own[stage]:6.3f} {own[stage] / total:6.0%}   {within}")
        print(f"    {'total':<50} {total:6.3f}")
        statements = captured_sql(function, users[0])
        print(f"  its {len(statements)} SQL statements:")
        for statement in statements:
            print(f"    {' '.join(statement.split())[:150]}")
        if name != TOKEN_VARIANT:
            continue
        profiler = cProfile.Profile()
        profiler.enable()
        for user in users:
            function(user)
        profiler.disable()
        for order_by, count in (("cumulative", 30), ("tottime", 12)):
            output = io.StringIO()
            pstats.Stats(profiler, stream=output).strip_dirs().sort_stats(order_by).print_stats(count)
            lines = [line for line in output.getvalue().splitlines() if line.strip()]
            table = lines[lines.index(next(line for line in lines if "ncalls" in line)):]
            print(f"  cProfile over {len(users)} requests, top {count} by {order_by} time:")
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
    # A polled count finds its user's rows in memory: read each sampled inbox once first, so the
    # variant that happens to run first for a user does not pay the cold read for the others.
    for user in get_user_model().objects.filter(pk__in=sample):
        queries.get_unread_count(user)
        queries.get_user_notifications(user)
    # Round robin, user by user: other load on the machine then falls on every variant alike.
    results, cpu_results = timed_round_robin(variants, sample)
    if args.rest_only:
        results["  shipped unread count, SQL round trip only"] = timed_sql(queries.get_unread_count, sample)
        report(results, cpu_results)
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

    report(results, cpu_results)
    rest_breakdown(rest, sample[:200])
    delete_sessions(sessions)


TARGETS = {  # p50 targets, ms
    "unread count (shipped: SQL count on the indexes)": 2.0,
    TOKEN_VARIANT: 2.0,
    SESSION_VARIANT: 2.0,
}


def report(results: dict[str, list[float]], cpu_results: dict[str, list[float]]) -> None:
    print(f"\n{'query':<72} {'timings over random users':<43} this thread's CPU")
    for name, samples in results.items():
        cpu = f"   CPU p50 {statistics.median(cpu_results[name]) * 1000:7.3f} ms" if name in cpu_results else ""
        print(f"{name:<72} {percentiles(samples)}   (n={len(samples)}){cpu}")
    print()
    for name, target in TARGETS.items():
        p50 = statistics.median(results[name]) * 1000
        print(f"{name:<72} p50 {p50:7.3f} ms   target <= {target:g} ms: {'met' if p50 <= target else 'MISSED'}")
    before, after = (statistics.median(results[name]) * 1000 for name in (BEFORE_VARIANT, TOKEN_VARIANT))
    print(f"{'the REST count by token, as before -> shipped (same run)':<72} p50 {before:7.3f} -> {after:.3f} ms")


def delete_sessions(keys: list[str]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


if __name__ == "__main__":
    main()
