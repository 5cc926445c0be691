"""The daily job through a real Celery worker and Redis, sent twice at once.

Needs PostgreSQL and Redis: DATABASE_URL=postgres://…/crm_visits REDIS_URL=redis://127.0.0.1:6379
The worker runs in a thread of this process (two threads of its own), on Redis database 15 and
a queue of its own, so that it takes no other test's or helper's messages.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from notifications.models import Notification
from visits.models import PlannedVisit, VisitReminder

from .factories import active_customer

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a real Redis for the worker)"),
]


def _redis_db15(url: str) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url.rstrip("/")
    return f"{base}/15"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_job_twice_at_once_and_reminds_once(manager):
    if connection.vendor != "postgresql":
        pytest.skip("run with DATABASE_URL=postgres://… : the worker needs a server database")
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app
    from visits.tasks import visits_daily_run_task

    today = timezone.localdate()
    for n in range(20):
        customer = active_customer(manager)
        PlannedVisit.objects.create(
            customer=customer, due_date=today - timedelta(days=n % 4), assigned_to=manager
        )

    done, lock = [], threading.Lock()

    def finished(sender=None, task_id=None, **kwargs):
        connections.close_all()  # the worker's threads must not keep the test database open
        with lock:
            done.append(task_id)

    saved = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=_redis_db15(REDIS_URL), task_always_eager=False)
    queue = f"visits-test-{uuid.uuid4().hex}"
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(
            app, pool="threads", concurrency=2, queues=[queue], perform_ping_check=False
        ):
            for _ in range(2):
                visits_daily_run_task.apply_async(queue=queue)
            deadline = time.monotonic() + 60
            while len(done) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        task_postrun.disconnect(finished)
        app.conf.update(saved)

    assert len(done) == 2
    assert VisitReminder.objects.count() == 20
    assert Notification.objects.filter(dedup_key__startswith="visit-reminder:").count() == 20
    assert [message.to for message in mail.outbox] == [[manager.email]]  # one digest, once
