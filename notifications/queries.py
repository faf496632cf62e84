"""Read-side use cases of the inbox: a user's page of notifications and the counts; always for someone.

The visibility rules themselves live once, on NotificationQuerySet; these only ask them.
"""

import heapq
import itertools

from django.db import connection, connections
from django.db.models import Value

from .exceptions import InvalidLimit
from .models import Notification
from .serializers import limit_error
from .validation import MAX_LIMIT


def get_user_notifications(user, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    """Return user's newest notifications (own and system-wide), each with `read` as user sees it."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidLimit({"limit": [limit_error(MAX_LIMIT)]})
    if unread_only:
        own = Notification.objects.unread_own(user).annotate(read_by_user=Value(False))
        system = Notification.objects.unread_system_wide_for(user).annotate(read_by_user=Value(False))
    else:
        own = Notification.objects.own_for(user)
        system = Notification.objects.system_wide_for(user)
    # Two index range scans that each stop at `limit`: one query with `user = ? OR user
    # IS NULL` would read and sort every matching row first. PostgreSQL runs both in one
    # statement (UNION ALL of the two limited scans); SQLite cannot limit inside a
    # compound statement, so there the two pages are fetched and merged here.
    own, system = own.newest_first()[:limit], system.newest_first()[:limit]
    if connection.features.supports_slicing_ordering_in_compound:
        rows = list(own.union(system, all=True).order_by("-created_at", "-id")[:limit])
    else:
        merged = heapq.merge(list(own), list(system), key=lambda row: (row.created_at, row.pk), reverse=True)
        rows = list(itertools.islice(merged, limit))
    for row in rows:
        # A system-wide row's own `read` column is never set; show this user's state in
        # its place, so a caller reading `.read` gets what the user sees.
        row.read = row.read_by_user
    return rows


def count_user_notifications(user, unread_only: bool = False) -> int:
    """Return how many notifications user's list holds in all (unread ones only, if asked)."""
    rows = Notification.objects.unread_for(user) if unread_only else Notification.objects.visible_to(user)
    return rows.count()


# The unread count is the hottest read (every badge poll, socket connect and page bell), and
# building its ORM query (an OR over an Exists subquery) cost more than running it. So its SQL
# is compiled once per database from unread_for, which still states the rule, and each call
# only sends it with the user's id. Two threads compiling at once store the same value.
_unread_count_sql: dict[str, tuple[str, list, list[int]]] = {}


def get_unread_count(user) -> int:
    """Return how many notifications user has not read (own plus system-wide)."""
    alias = Notification.objects.db
    compiled = _unread_count_sql.get(alias)
    if compiled is None:
        compiled = _unread_count_sql[alias] = _compile_count(Notification.objects.unread_for, alias)
    sql, params, user_slots = compiled
    params = list(params)
    for slot in user_slots:
        params[slot] = user.pk
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _compile_count(rows_for, alias: str) -> tuple[str, list, list[int]]:
    """Return the SQL counting rows_for(user id) on alias, its parameters, and which of them are the id.

    Compiled for two ids: the parameters that differ are the user's; everything else must not.
    """
    (sql, params), (other_sql, other_params) = (
        rows_for(user_id).order_by().values("pk").query.get_compiler(alias).as_sql() for user_id in (1, 2)
    )
    if sql != other_sql:
        raise AssertionError(f"the count's SQL depends on the user beyond its parameters: {sql}")
    user_slots = [slot for slot, (value, other) in enumerate(zip(params, other_params, strict=True))
                  if value != other]
    return f"SELECT COUNT(*) FROM ({sql}) AS counted", list(params), user_slots
