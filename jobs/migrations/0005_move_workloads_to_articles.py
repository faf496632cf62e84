"""Hand Article, feeds and keyword models over to the articles app: state only, no row moves.

The tables keep their names (articles' models set db_table), so the database is untouched;
articles/0001_initial takes the same models into its own state first.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0004_auto_ingest_schedule"),
        ("articles", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='keywordgroup',
                    name='checked_articles',
                ),
                migrations.DeleteModel(
                    name='AutoIngestConfig',
                ),
                migrations.DeleteModel(
                    name='FeedSource',
                ),
                migrations.RemoveIndex(
                    model_name='keywordalert',
                    name='alert_group_unread_new',
                ),
                migrations.RemoveConstraint(
                    model_name='keywordalert',
                    name='keyword_alert_once',
                ),
                migrations.RemoveConstraint(
                    model_name='keywordcheck',
                    name='keyword_check_once',
                ),
                migrations.RemoveField(
                    model_name='keywordgroup',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='keywordcheck',
                    name='article',
                ),
                migrations.RemoveField(
                    model_name='keywordcheck',
                    name='group',
                ),
                migrations.DeleteModel(
                    name='KeywordAlert',
                ),
                migrations.DeleteModel(
                    name='Article',
                ),
                migrations.DeleteModel(
                    name='KeywordCheck',
                ),
                migrations.DeleteModel(
                    name='KeywordGroup',
                ),
            ],
        ),
    ]
