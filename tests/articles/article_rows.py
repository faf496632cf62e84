"""Analyzed Article rows for the read API and page tests, made directly (no fetching)."""

from datetime import timedelta

from django.utils import timezone

from articles.models import Article


def make_article(n: int, topic: str = "energy", sentiment: float = 0.5, label: str = "positive",
                 relevance: float | None = 0.8, title: str | None = None, **fields) -> Article:
    """Create analyzed article n; a higher n is created later (newer)."""
    article = Article.objects.create(
        url=f"https://news.example.com/{topic}/{n}", title=title or f"Story {n} about {topic}",
        source="news.example.com",
        topic=topic, summary=f"Summary of story {n}.", sentiment=sentiment, sentiment_label=label,
        keywords=[topic, "story"], relevance=relevance, model_used="local", analyzed_at=timezone.now(),
        published_at=timezone.now() - timedelta(days=1), **fields,
    )
    # created_at is auto_now_add: spread the rows out so "newest first" has one answer.
    Article.objects.filter(pk=article.pk).update(created_at=timezone.now() - timedelta(minutes=1000 - n))
    article.refresh_from_db()
    return article
