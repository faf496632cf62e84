"""Read-side use cases: articles (for every logged-in user), keyword groups and alerts (always for someone)."""

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from .exceptions import ArticleNotFound, KeywordGroupNotFound
from .models import Article, KeywordAlert, KeywordGroup


def get_keyword_group(group_id, user) -> KeywordGroup:
    """Return the keyword group if user may see it (owner or staff); KeywordGroupNotFound otherwise."""
    try:
        return KeywordGroup.objects.visible_to(user).get(pk=group_id)
    except (KeywordGroup.DoesNotExist, ValidationError, ValueError, TypeError):
        # Someone else's group answers like a missing one: its existence is not revealed.
        raise KeywordGroupNotFound() from None


def keyword_groups_of(user):
    """Return the keyword groups user owns, by name."""
    return KeywordGroup.objects.owned_by(user)


def keyword_alerts_for(user):
    """Return the alerts of user's own groups, newest first, with their group and article."""
    return KeywordAlert.objects.for_user(user).select_related("group", "article")


def keyword_alert_counts(user) -> dict:
    """Return {"total": …, "unread": …} for the alerts of user's own groups, in one query."""
    return KeywordAlert.objects.for_user(user).aggregate(total=Count("pk"), unread=Count("pk", filter=Q(is_read=False)))


def search_articles(topic: str = "", sentiment: str = "", min_relevance: float | None = None, q: str = ""):
    """Return the articles matching every given filter, newest first; every logged-in user sees them all."""
    articles = Article.objects.all()
    if topic:
        articles = articles.filter(topic=topic)
    if sentiment:
        articles = articles.filter(sentiment_label=sentiment)
    if min_relevance is not None:
        articles = articles.filter(relevance__gte=min_relevance)
    for word in q.split():
        # Each word must appear somewhere: "solar grid" narrows, as people expect of a search box.
        articles = articles.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(url__icontains=word)
                                   | Q(source__icontains=word))
    return articles.order_by("-created_at", "-pk")


def get_article(article_id) -> Article:
    """Return the article with article_id; ArticleNotFound otherwise (malformed ids included)."""
    try:
        return Article.objects.get(pk=article_id)
    except (Article.DoesNotExist, ValidationError, ValueError, TypeError):
        raise ArticleNotFound() from None


def article_topics() -> list[str]:
    """Return the topics articles carry, alphabetically, for the list's filter."""
    return list(Article.objects.exclude(topic="").order_by("topic").values_list("topic", flat=True).distinct())
