"""Keyword checks: scan the articles a group has not seen yet and raise one alert per match."""

import logging
import re

from django.db import transaction
from django.db.models import Max

from jobs import lifecycle
from jobs.exceptions import JobCancelled
from jobs.reporting import no_progress, set_total
from notifications.services import notify

from .models import Article, KeywordAlert, KeywordCheck, KeywordGroup
from .queries import get_keyword_group

logger = logging.getLogger(__name__)

KIND = "keyword_check"
CHUNK_SIZE = 200


def start_keyword_check(group_id: int | None = None, owner=None) -> str:
    """Create a keyword-check task: one group, the owner's groups, or (owner None) all groups.

    A group owner may not see (someone else's, unless staff) is KeywordGroupNotFound.
    """
    if group_id is not None and owner is not None:
        get_keyword_group(group_id, owner)
    if group_id is not None:
        name = f"Keyword check of group {group_id}"
    elif owner is not None and not owner.is_staff:
        name = f"Keyword check of {owner.get_username()}'s groups"
    else:
        name = "Keyword check of all groups"
    params = {"group_id": group_id}
    if group_id is None and owner is not None and not owner.is_staff:
        params["owner_id"] = owner.pk
    return lifecycle.create_task(name=name, kind=KIND, owner=owner, params=params)


def keyword_pattern(keywords: list[str]) -> re.Pattern | None:
    """Return one case-insensitive pattern matching any keyword as whole words."""
    terms = sorted({str(k).strip().lower() for k in keywords if str(k).strip()}, key=lambda k: (-len(k), k))
    if not terms:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(term) for term in terms) + r")(?!\w)", re.IGNORECASE)


def matched_keywords(pattern: re.Pattern | None, article: Article) -> list[str]:
    if pattern is None:
        return []
    text = "\n".join((article.title, article.summary, article.content))
    return sorted({match.lower() for match in pattern.findall(text)})


def run_keyword_check_task(progress_callback=no_progress, group_id: int | None = None,
                           owner_id: int | None = None) -> dict:
    """Check unseen articles for the group(s); return {groups, checked, alerts_created, by_group}."""
    groups = KeywordGroup.objects.filter(enabled=True).select_related("owner")
    if group_id is not None:
        groups = KeywordGroup.objects.filter(pk=group_id).select_related("owner")
    elif owner_id is not None:
        groups = groups.filter(owner_id=owner_id)
    groups = list(groups)
    # Articles saved after this point wait for the next check: bounding every group's walk by
    # today's newest article keeps the total counted here true to the items the run reports.
    newest_pk = Article.objects.aggregate(newest=Max("pk"))["newest"] or 0
    set_total(progress_callback, sum(_unseen_articles(group, newest_pk).count() for group in groups))
    outcome = {"groups": len(groups), "checked": 0, "alerts_created": 0, "by_group": {}}
    try:
        for group in groups:
            created = _check_group(group, newest_pk, outcome, progress_callback)
            outcome["by_group"][str(group.pk)] = {"name": group.name, "alerts_created": created}
            if created:
                plural = "s" if created != 1 else ""
                notify(group.owner, "keyword_alert", f"{created} new keyword alert{plural}",
                       f"Keyword group \u201c{group.name}\u201d matched {created} new article{plural}.",
                       link="/keyword-alerts")
    except JobCancelled as cancelled:
        cancelled.partial_result = outcome
        raise
    return outcome


def _unseen_articles(group: KeywordGroup, newest_pk: int):
    return Article.objects.exclude(keyword_checks__group=group).filter(pk__lte=newest_pk)


def _unseen_article_pages(group: KeywordGroup, newest_pk: int):
    """Yield the group's unchecked articles in pages of CHUNK_SIZE, by ascending pk.

    Keyset pages (pk > the last one seen, LIMIT CHUNK_SIZE) keep memory bounded however many
    articles exist. Each page is read whole before any is checked: we write KeywordCheck rows
    while walking, and a cursor open over the same tables (SQLite) would see its own writes.
    """
    last_pk = 0
    while True:
        page = list(_unseen_articles(group, newest_pk).filter(pk__gt=last_pk).order_by("pk")
                    .only("pk", "url", "title", "summary", "content")[:CHUNK_SIZE])
        if not page:
            return
        yield page
        last_pk = page[-1].pk


def _check_group(group: KeywordGroup, newest_pk: int, outcome: dict, progress_callback) -> int:
    keywords = group.keywords if isinstance(group.keywords, list) else [group.keywords]
    pattern = keyword_pattern(keywords)
    created = 0
    for page in _unseen_article_pages(group, newest_pk):
        for article in page:
            matched = matched_keywords(pattern, article)
            new_alert = False
            with transaction.atomic():
                # The check row and the alert commit together, and only the run that made the
                # check row may alert: two concurrent checks never alert twice (the unique
                # constraint on group+article is the last guard).
                _, checked_now = KeywordCheck.objects.get_or_create(group=group, article=article)
                if matched and checked_now:
                    _, new_alert = KeywordAlert.objects.get_or_create(
                        group=group, article=article, defaults={"matched_keywords": matched}
                    )
            created += int(new_alert)
            outcome["checked"] += 1
            outcome["alerts_created"] += int(new_alert)
            progress_callback(outcome["checked"], current=article.url)
    return created
