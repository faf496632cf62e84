"""The article models, taken over from jobs with their tables: state only, plus two renames of record.

On an existing database the tables were made by jobs/0003_workloads and keep their names
(db_table), so no row moves. The content types (and so the permissions and admin history)
and the auto-ingest schedule's dotted path follow the models to their new app.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ["article", "feedsource", "autoingestconfig", "keywordgroup", "keywordcheck", "keywordalert"]
OLD_SCHEDULED, NEW_SCHEDULED = "jobs.auto_ingest.run_scheduled_auto_ingest", "articles.auto_ingest.run_scheduled_auto_ingest"


def follow_the_models(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not ContentType.objects.filter(app_label="articles", model=model).exists():
            ContentType.objects.filter(app_label="jobs", model=model).update(app_label="articles")
    apps.get_model("django_q", "Schedule").objects.filter(func=OLD_SCHEDULED).update(func=NEW_SCHEDULED)


def go_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not ContentType.objects.filter(app_label="jobs", model=model).exists():
            ContentType.objects.filter(app_label="articles", model=model).update(app_label="jobs")
    apps.get_model("django_q", "Schedule").objects.filter(func=NEW_SCHEDULED).update(func=OLD_SCHEDULED)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0004_auto_ingest_schedule"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Article',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=2000, unique=True)),
                        ('title', models.CharField(blank=True, default='', max_length=500)),
                        ('content', models.TextField(blank=True, default='')),
                        ('source', models.CharField(blank=True, default='', max_length=200)),
                        ('topic', models.CharField(blank=True, db_index=True, default='', max_length=200)),
                        ('published_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('summary', models.TextField(blank=True, default='')),
                        ('sentiment', models.FloatField(blank=True, null=True)),
                        ('sentiment_label', models.CharField(blank=True, default='', max_length=20)),
                        ('keywords', models.JSONField(blank=True, default=list)),
                        ('relevance', models.FloatField(blank=True, null=True)),
                        ('model_used', models.CharField(blank=True, default='', max_length=100)),
                        ('analyzed_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'jobs_article',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AutoIngestConfig',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('enabled', models.BooleanField(default=False, help_text='Run on the schedule; a manual start works either way.')),
                        ('quality_control_enabled', models.BooleanField(default=True)),
                        ('min_relevance_threshold', models.FloatField(default=0.3, help_text='0..1; articles below it are dropped.')),
                        ('min_content_length', models.PositiveIntegerField(default=300, help_text='Characters; shorter fails quality control.')),
                        ('batch_size', models.PositiveIntegerField(default=10)),
                        ('max_concurrent_batches', models.PositiveIntegerField(default=2)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'verbose_name': 'auto-ingest settings',
                        'verbose_name_plural': 'auto-ingest settings',
                        'db_table': 'jobs_autoingestconfig',
                    },
                ),
                migrations.CreateModel(
                    name='FeedSource',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(blank=True, default='', max_length=200)),
                        ('url', models.URLField(max_length=2000, unique=True)),
                        ('topic', models.CharField(blank=True, default='', help_text='Relevance is scored against it.', max_length=200)),
                        ('enabled', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_fetched_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True, default='')),
                    ],
                    options={
                        'db_table': 'jobs_feedsource',
                        'ordering': ['name', 'url'],
                    },
                ),
                migrations.CreateModel(
                    name='KeywordCheck',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('checked_at', models.DateTimeField(auto_now_add=True)),
                        ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='keyword_checks', to='articles.article')),
                    ],
                    options={
                        'db_table': 'jobs_keywordcheck',
                    },
                ),
                migrations.CreateModel(
                    name='KeywordGroup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('keywords', models.JSONField(default=list, help_text='A list of words or phrases, e.g. ["solar", "wind power"].')),
                        ('enabled', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('checked_articles', models.ManyToManyField(blank=True, related_name='+', through='articles.KeywordCheck', to='articles.article')),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='keyword_groups', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'jobs_keywordgroup',
                        'ordering': ['name'],
                    },
                ),
                migrations.AddField(
                    model_name='keywordcheck',
                    name='group',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='checks', to='articles.keywordgroup'),
                ),
                migrations.CreateModel(
                    name='KeywordAlert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('matched_keywords', models.JSONField(default=list)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('is_read', models.BooleanField(default=False)),
                        ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='keyword_alerts', to='articles.article')),
                        ('group', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='articles.keywordgroup')),
                    ],
                    options={
                        'db_table': 'jobs_keywordalert',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='keywordcheck',
                    constraint=models.UniqueConstraint(fields=('group', 'article'), name='keyword_check_once'),
                ),
                migrations.AddIndex(
                    model_name='keywordalert',
                    index=models.Index(fields=['group', 'is_read', '-created_at'], name='alert_group_unread_new'),
                ),
                migrations.AddConstraint(
                    model_name='keywordalert',
                    constraint=models.UniqueConstraint(fields=('group', 'article'), name='keyword_alert_once'),
                ),
            ],
        ),
        migrations.RunPython(follow_the_models, go_back),
    ]
