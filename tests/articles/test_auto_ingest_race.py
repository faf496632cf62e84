"""Two auto-ingest starts racing on PostgreSQL: exactly one task, the other gets its id."""

import threading
import time

import pytest
from django.db import connection

from articles.auto_ingest import start_auto_ingest
from articles.exceptions import AutoIngestAlreadyRunning
from articles.models import AutoIngestConfig
from jobs import lifecycle
from jobs.models import TaskInfo

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_concurrent_starts_make_one_task(user, monkeypatch):
    racers = 8
    create_task = lifecycle.create_task

    def slow_create_task(*args, **kwargs):
        # Widen the window between "none is running" and the new row: without the lock,
        # every racer would get through it.
        time.sleep(0.2)
        return create_task(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "create_task", slow_create_task)
    AutoIngestConfig.load()  # the row exists, as it does after the first run
    barrier = threading.Barrier(racers)
    started, refused, errors = [], [], []

    def start():
        try:
            barrier.wait()
            started.append(str(start_auto_ingest(owner=user)))
        except AutoIngestAlreadyRunning as busy:
            refused.append(str(busy.task_id))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(started) == 1 and len(refused) == racers - 1
    assert set(refused) == set(started)
    assert TaskInfo.objects.filter(kind="auto_ingest").count() == 1
