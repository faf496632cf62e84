"""Keyword checks: alerts for matching articles, never twice, progress per article, owner notified."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import keyword_checks
from articles.exceptions import KeywordGroupNotFound
from articles.keyword_checks import keyword_pattern, run_keyword_check_task
from articles.models import Article, KeywordAlert, KeywordCheck, KeywordGroup
from articles.queries import get_keyword_group, keyword_alert_counts, keyword_alerts_for, keyword_groups_of
from notifications.models import Notification
from tests.factories import Recorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    return [
        Article.objects.create(url="https://news.example.com/solar", title="Solar farms expand",
                               content="New solar panels were installed across the valley."),
        Article.objects.create(url="https://news.example.com/wind", title="Offshore wind",
                               content="Wind power projects won approval.", summary="A wind power story."),
        Article.objects.create(url="https://news.example.com/cup", title="Cup final",
                               content="United won the cup final. Solaris the mascot cheered."),
    ]


def test_alerts_are_raised_for_matches_and_never_duplicated(articles, user):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar", "Wind Power"], owner=user)
    calls = []
    result = run_keyword_check_task(lambda processed, current=None: calls.append((processed, current)))

    assert result["checked"] == 3 and result["alerts_created"] == 2
    alerts = {a.article.url: a.matched_keywords for a in KeywordAlert.objects.select_related("article")}
    # Whole words only: "Solaris" is not "solar".
    assert alerts == {"https://news.example.com/solar": ["solar"], "https://news.example.com/wind": ["wind power"]}
    assert [p for p, _ in calls] == [1, 2, 3]
    assert {c for _, c in calls} == {a.url for a in articles}

    notice = Notification.objects.get(type="keyword_alert")
    assert notice.user == user and notice.link == "/keyword-alerts" and "Energy" in notice.message

    again = run_keyword_check_task(group_id=group.pk)
    assert again["checked"] == 0 and again["alerts_created"] == 0
    assert KeywordAlert.objects.count() == 2
    assert Notification.objects.filter(type="keyword_alert").count() == 1  # no new alerts, no notice


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_told_of_new_alerts_only_after_they_have_committed(articles, user, monkeypatch):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar", "wind power"], owner=user)
    seen = []

    def recording_notify(recipient, *args, **kwargs):
        # Outside any transaction (autocommit), the alerts counted here are committed ones.
        seen.append((connection.in_atomic_block, KeywordAlert.objects.filter(group=group).count()))
        real_notify(recipient, *args, **kwargs)

    real_notify = keyword_checks.notify
    monkeypatch.setattr(keyword_checks, "notify", recording_notify)
    run_keyword_check_task()
    assert seen == [(False, 2)]
    assert Notification.objects.get(type="keyword_alert").title == "2 new keyword alerts"


def test_unchecked_articles_are_read_in_bounded_pages_with_progress_against_the_true_total(
        articles, user, monkeypatch):
    monkeypatch.setattr(keyword_checks, "CHUNK_SIZE", 2)
    for n in range(4):
        Article.objects.create(url=f"https://news.example.com/more-solar-{n}", title=f"Solar {n}", content="Solar.")
    KeywordGroup.objects.create(name="Energy", keywords=["solar"], owner=user)
    KeywordGroup.objects.create(name="Sport", keywords=["cup final"], owner=user)
    recorder = Recorder()
    with CaptureQueriesContext(connection) as queries:
        result = run_keyword_check_task(recorder)

    assert result["checked"] == 14 and result["alerts_created"] == 5 + 1
    assert recorder.total_items == 14 and [p for p, _ in recorder.calls] == list(range(1, 15))
    article_reads = [q["sql"] for q in queries.captured_queries
                     if q["sql"].startswith("SELECT") and 'FROM "jobs_article"' in q["sql"]
                     and "COUNT(" not in q["sql"] and "MAX(" not in q["sql"]]
    assert len(article_reads) == 2 * 5  # per group, 7 articles: pages of 2, 2, 2, 1, then an empty one
    assert all(sql.endswith("LIMIT 2") for sql in article_reads)


def test_articles_saved_during_a_check_wait_for_the_next_one(articles, user):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar"], owner=user)
    recorder = Recorder()

    def progress(processed, current=None):
        recorder(processed, current)
        if processed == 1:
            Article.objects.create(url="https://news.example.com/late-solar", title="Late solar", content="Solar.")

    progress.set_total = recorder.set_total
    result = run_keyword_check_task(progress)
    assert result["checked"] == recorder.total_items == 3  # progress ends exactly at the total
    late = run_keyword_check_task(group_id=group.pk)
    assert late["checked"] == 1 and late["alerts_created"] == 1


def test_only_articles_new_to_the_group_are_checked(articles, user):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar"], owner=user)
    run_keyword_check_task(group_id=group.pk)
    fresh = Article.objects.create(url="https://news.example.com/solar-2", title="More solar", content="Solar again.")
    result = run_keyword_check_task(group_id=group.pk)
    assert result["checked"] == 1 and result["alerts_created"] == 1
    assert KeywordAlert.objects.filter(group=group, article=fresh).exists()
    assert KeywordCheck.objects.filter(group=group).count() == 4


def test_a_re_checked_article_with_a_lost_check_row_still_makes_no_second_alert(articles, user):
    group = KeywordGroup.objects.create(name="Energy", keywords=["solar"], owner=user)
    run_keyword_check_task(group_id=group.pk)
    KeywordCheck.objects.all().delete()  # as if the checks had been forgotten
    run_keyword_check_task(group_id=group.pk)
    assert KeywordAlert.objects.filter(group=group).count() == 1


def test_each_group_is_checked_on_its_own_and_its_owner_told(articles, user, other_user):
    mine = KeywordGroup.objects.create(name="Mine", keywords=["solar"], owner=user)
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["cup final"], owner=other_user)
    KeywordGroup.objects.create(name="Off", keywords=["wind"], owner=user, enabled=False)
    result = run_keyword_check_task()
    assert result["groups"] == 2 and result["checked"] == 6
    assert result["by_group"][str(mine.pk)]["alerts_created"] == 1
    assert result["by_group"][str(theirs.pk)]["alerts_created"] == 1
    assert Notification.objects.get(user=other_user, type="keyword_alert").title == "1 new keyword alert"


def test_owner_scoped_check_touches_only_that_owners_groups(articles, user, other_user):
    KeywordGroup.objects.create(name="Mine", keywords=["solar"], owner=user)
    KeywordGroup.objects.create(name="Theirs", keywords=["solar"], owner=other_user)
    result = run_keyword_check_task(owner_id=user.pk)
    assert result["groups"] == 1
    assert list(KeywordAlert.objects.values_list("group__owner", flat=True)) == [user.pk]


def test_keyword_pattern_matches_phrases_case_insensitively_and_escapes():
    pattern = keyword_pattern(["C++", "climate change", " "])
    assert pattern.findall("CLIMATE CHANGE and c++ news") == ["CLIMATE CHANGE", "c++"]
    assert keyword_pattern([]) is None


def test_alerts_page_lists_only_the_users_alerts(client, articles, user, other_user):
    mine = KeywordGroup.objects.create(name="Mine", keywords=["solar"], owner=user)
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["wind power"], owner=other_user)
    KeywordAlert.objects.create(group=mine, article=articles[0], matched_keywords=["solar"])
    KeywordAlert.objects.create(group=theirs, article=articles[1], matched_keywords=["wind power"])

    assert client.get("/keyword-alerts").status_code == 302  # login first
    client.force_login(user)
    page = client.get("/keyword-alerts")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Solar farms expand" in html and "Offshore wind" not in html
    assert "1 alert, 1 unread" in html
    assert '<a href="/keyword-alerts">Alerts</a>' in html  # inside the site's base layout
    assert client.get("/keyword-alerts/").status_code == 200


def test_a_group_is_found_only_for_its_owner_or_staff(user, other_user, staff_user):
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["solar"], owner=other_user)
    assert get_keyword_group(theirs.pk, other_user) == theirs
    assert get_keyword_group(theirs.pk, staff_user) == theirs
    for group_id in (theirs.pk, theirs.pk + 100, "abc"):
        with pytest.raises(KeywordGroupNotFound):
            get_keyword_group(group_id, user)


def test_alert_queries_count_and_list_only_the_users_own_alerts(articles, user, other_user, staff_user):
    mine = KeywordGroup.objects.create(name="Mine", keywords=["solar"], owner=user)
    theirs = KeywordGroup.objects.create(name="Theirs", keywords=["wind"], owner=other_user)
    read = KeywordAlert.objects.create(group=mine, article=articles[0], is_read=True)
    unread = KeywordAlert.objects.create(group=mine, article=articles[1])
    KeywordAlert.objects.create(group=theirs, article=articles[1])

    assert list(keyword_alerts_for(user)) == [unread, read]  # newest first
    assert keyword_alert_counts(user) == {"total": 2, "unread": 1}
    assert list(keyword_groups_of(user)) == [mine]
    # The page is the staff member's own alerts too, not everyone's.
    assert keyword_alert_counts(staff_user) == {"total": 0, "unread": 0}
    assert not keyword_groups_of(staff_user).exists()
