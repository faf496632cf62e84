"""GET /api/articles and /api/articles/{id}: the analyzed articles, for every logged-in user."""

import pytest
from rest_framework.test import APIClient

from .article_rows import make_article

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.articles.urls")]

FIELDS = {"id", "url", "title", "source", "topic", "published_date", "summary", "sentiment", "sentiment_score",
          "relevance", "keywords", "analyzed_at"}


def titles(response) -> list[str]:
    return [article["title"] for article in response.json()["articles"]]


@pytest.mark.parametrize("path", ["/api/articles", "/api/articles/"])
def test_list_shows_every_article_newest_first_with_the_analysis_fields(api, path):
    make_article(1)
    make_article(2, topic="floods", sentiment=-0.6, label="negative", relevance=0.2)
    response = api.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert titles(response) == ["Story 2 about floods", "Story 1 about energy"]
    newest = body["articles"][0]
    assert set(newest) == FIELDS
    assert (newest["sentiment"], newest["sentiment_score"], newest["relevance"]) == ("negative", -0.6, 0.2)
    assert newest["keywords"] == ["floods", "story"] and newest["published_date"] and newest["analyzed_at"]


def test_articles_are_visible_to_every_logged_in_user_but_not_to_anonymous_ones(api, other_api):
    article = make_article(1)
    assert other_api.get("/api/articles").json()["count"] == 1
    assert other_api.get(f"/api/articles/{article.pk}").status_code == 200
    assert APIClient().get("/api/articles").status_code in (401, 403)
    assert APIClient().get(f"/api/articles/{article.pk}").status_code in (401, 403)


@pytest.mark.parametrize("query, expected", [
    ("topic=floods", ["Story 3 about floods", "Story 2 about floods"]),
    ("sentiment=negative", ["Story 2 about floods"]),
    ("min_relevance=0.5", ["Story 3 about floods", "Story 1 about energy"]),
    ("q=energy", ["Story 1 about energy"]),
    ("q=STORY+floods", ["Story 3 about floods", "Story 2 about floods"]),  # every word, any case
    ("topic=floods&sentiment=positive", ["Story 3 about floods"]),
    ("topic=&sentiment=&min_relevance=&q=", ["Story 3 about floods", "Story 2 about floods", "Story 1 about energy"]),
])
def test_filters_narrow_the_list_and_count(api, query, expected):
    make_article(1, relevance=0.9)
    make_article(2, topic="floods", sentiment=-0.6, label="negative", relevance=0.1)
    make_article(3, topic="floods", relevance=0.6)
    response = api.get(f"/api/articles?{query}")
    assert response.status_code == 200
    assert titles(response) == expected and response.json()["count"] == len(expected)


def test_limit_and_offset_page_through_and_count_is_the_total(api):
    for n in range(5):
        make_article(n)
    response = api.get("/api/articles?limit=2&offset=1")
    assert titles(response) == ["Story 3 about energy", "Story 2 about energy"]
    assert response.json()["count"] == 5


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
    ("offset=-1", "offset"), ("sentiment=happy", "sentiment"), ("min_relevance=2", "min_relevance"),
    ("min_relevance=high", "min_relevance"),
])
def test_bad_query_values_are_a_400_naming_the_field(api, query, field):
    response = api.get(f"/api/articles?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_limit_error_says_the_allowed_range(api):
    message = ["Expected a whole number of at least 1 and at most 500."]
    assert api.get("/api/articles?limit=0").json()["limit"] == message
    assert api.get("/api/articles?limit=abc").json()["limit"] == message
    assert api.get("/api/articles?offset=-1").json()["offset"] == ["Expected a whole number of at least 0."]
    assert api.get("/api/articles?limit=500").status_code == 200


def test_detail_shows_one_article(api):
    article = make_article(7, title="Solar doubles")
    response = api.get(f"/api/articles/{article.pk}/")
    assert response.status_code == 200
    assert response.json()["title"] == "Solar doubles" and set(response.json()) == FIELDS


@pytest.mark.parametrize("article_id", ["999999", "abc", "1.5"])
def test_unknown_or_malformed_article_is_a_404(api, article_id):
    response = api.get(f"/api/articles/{article_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such article."}
