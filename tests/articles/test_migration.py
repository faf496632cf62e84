"""Moving the article models from jobs to articles loses no row: an old-layout database migrates forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def old_layout(latest: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Every app at its newest migration, but jobs before the move and no articles app at all."""
    targets = [node for node in latest if node[0] not in ("jobs", "articles")]
    return [*targets, ("jobs", "0004_auto_ingest_schedule"), ("articles", None)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([node for node in targets if node[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_articles_alerts_and_feeds_written_in_the_old_layout_are_all_there_after_the_move(django_user_model):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(old_layout(latest))
    try:
        User = old.get_model("auth", "User")
        owner = User.objects.create(username="olduser")
        Article = old.get_model("jobs", "Article")
        articles = [Article.objects.create(url=f"https://example.com/{n}", title=f"Old {n}", summary="s",
                                           sentiment=0.5, keywords=["solar"]) for n in range(3)]
        group = old.get_model("jobs", "KeywordGroup").objects.create(name="energy", keywords=["solar"], owner=owner)
        old.get_model("jobs", "KeywordCheck").objects.create(group=group, article=articles[0])
        old.get_model("jobs", "KeywordAlert").objects.create(group=group, article=articles[0],
                                                             matched_keywords=["solar"])
        old.get_model("jobs", "FeedSource").objects.create(url="https://example.com/feed.xml", topic="energy")
        old.get_model("jobs", "AutoIngestConfig").objects.create(pk=1, enabled=True, batch_size=7)
        old.get_model("django_q", "Schedule").objects.update_or_create(
            name="auto-ingest", defaults={"func": "jobs.auto_ingest.run_scheduled_auto_ingest"})
        ContentTypes = old.get_model("contenttypes", "ContentType")
        ContentTypes.objects.filter(app_label="articles").delete()
        ContentTypes.objects.get_or_create(app_label="jobs", model="keywordalert")
    finally:
        new = migrate(latest)

    from articles.models import Article as NewArticle
    from articles.models import AutoIngestConfig, FeedSource, KeywordAlert, KeywordCheck, KeywordGroup

    assert sorted(NewArticle.objects.values_list("title", flat=True)) == ["Old 0", "Old 1", "Old 2"]
    [alert] = KeywordAlert.objects.select_related("group", "article")
    assert (alert.group.name, alert.article.title, alert.matched_keywords) == ("energy", "Old 0", ["solar"])
    assert KeywordCheck.objects.count() == 1
    assert list(KeywordGroup.objects.get().checked_articles.values_list("title", flat=True)) == ["Old 0"]
    assert FeedSource.objects.get().topic == "energy"
    assert (AutoIngestConfig.load().enabled, AutoIngestConfig.load().batch_size) == (True, 7)
    assert new.get_model("articles", "Article")._meta.db_table == "jobs_article"

    # What names the models by app follows them: the schedule's dotted path, the content types.
    from django.contrib.contenttypes.models import ContentType
    from django_q.models import Schedule

    assert Schedule.objects.get(name="auto-ingest").func == "articles.auto_ingest.run_scheduled_auto_ingest"
    assert ContentType.objects.filter(app_label="articles", model="keywordalert").exists()
    assert not ContentType.objects.filter(app_label="jobs", model="keywordalert").exists()
