"""/articles/ (filters, search, pages) and /articles/<id>/ (the full analysis), rendered by the server."""

import pytest

from articles.pages import PAGE_SIZE

from .article_rows import make_article

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.articles.urls")]


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def test_article_pages_need_a_login(client):
    article = make_article(1)
    for path in ("/articles/", f"/articles/{article.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_list_shows_the_articles_newest_first_with_links_sentiment_and_relevance(browser):
    older = make_article(1, relevance=0.42)
    newer = make_article(2, topic="floods", label="negative", sentiment=-0.5)
    page = browser.get("/articles/").content.decode()
    assert page.index("Story 2 about floods") < page.index("Story 1 about energy")
    assert f'href="/articles/{older.pk}/"' in page and f'href="/articles/{newer.pk}/"' in page
    assert "42 %" in page and 'class="sentiment sentiment-negative"' in page
    assert "2 articles" in page


def test_filters_narrow_the_table_and_offer_the_known_topics(browser):
    make_article(1)
    make_article(2, topic="floods", label="negative", sentiment=-0.5)
    page = browser.get("/articles/?topic=floods&sentiment=negative").content.decode()
    assert "Story 2 about floods" in page and "Story 1 about energy" not in page
    assert '<option value="energy">' in page and '<option value="floods" selected>' in page
    assert "1 article matches" in page


def test_search_finds_words_in_the_title(browser):
    make_article(1, title="Solar doubles")
    make_article(2, title="Wind falls")
    page = browser.get("/articles/?q=solar").content.decode()
    assert "Solar doubles" in page and "Wind falls" not in page


def test_a_bad_filter_is_shown_and_ignored_not_a_500(browser):
    make_article(1)
    response = browser.get("/articles/?min_relevance=lots&sentiment=happy")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Story 1 about energy" in page and "(ignored)" in page


def test_pages_keep_the_filters_in_their_links(browser):
    for n in range(PAGE_SIZE + 3):
        make_article(n)
    first = browser.get("/articles/?topic=energy").content.decode()
    assert "page 1 of 2" in first and 'href="?topic=energy&amp;page=2"' in first
    second = browser.get("/articles/?topic=energy&page=2").content.decode()
    assert "Story 0 about energy" in second and f"Story {PAGE_SIZE + 2} about energy" not in second


def test_no_articles_points_to_the_analysis_form(browser):
    page = browser.get("/articles/").content.decode()
    assert "No articles yet." in page and 'href="/analysis/new"' in page


def test_detail_shows_the_full_analysis(browser):
    article = make_article(5, title="Solar doubles", relevance=0.87, content="First paragraph.\n\nSecond one.")
    page = browser.get(f"/articles/{article.pk}/").content.decode()
    assert "<h1>Solar doubles</h1>" in page
    assert "Summary of story 5." in page and "87 % to “energy”" in page
    assert '<span class="chip">energy</span>' in page and "score 0.50" in page
    assert f'href="{article.url}"' in page and "Full text (4 words)" in page


def test_unknown_article_page_is_a_404(browser):
    assert browser.get("/articles/999999/").status_code == 404


def test_pages_have_no_inline_scripts(browser):
    article = make_article(1)
    for path in ("/articles/", f"/articles/{article.pk}/"):
        page = browser.get(path).content.decode()
        assert "<script>" not in page
