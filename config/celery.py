"""The Celery app, and how the apps send jobs so that a broker fault never fails a save.

Sending a job from a service::

    from config.celery import enqueue_on_commit
    enqueue_on_commit(complaint_escalate_task, complaint.pk)

The job is sent after the transaction commits (never for a rolled-back change). If the broker
is unreachable the send is recorded as a notifications.PendingTask and re-sent by the periodic
`pending_tasks_resend_task` once the broker is back; the user's save succeeds either way.

Writing a job that retries with back-off on transient faults::

    from config.celery import RETRYING

    @shared_task(**RETRYING)
    def contract_expiry_remind_task(contract_id: int) -> None: ...

Workers acknowledge a message only after the task ends and give it back if the worker dies
(settings: CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so a job may run twice:
every job must be idempotent.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Options for @shared_task(**RETRYING): retry on database and connection faults with exponential
# back-off (1 s, 2 s, 4 s, ... capped at 10 min, jittered), at most 5 times. Business-rule
# refusals are not retried: they would fail the same way again.
RETRYING = {
    "autoretry_for": (OperationalError, InterfaceError, ConnectionError, TimeoutError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}

# How hard a web request tries the broker before giving up and recording the job instead.
SEND_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
BROKER_ERRORS = (BrokerError, ConnectionError, TimeoutError, OSError)


def send_or_record(task_name: str, args: list | tuple = (), kwargs: dict | None = None) -> bool:
    """Send a task by name now; if the broker is unreachable record it for a later run.

    Return True when the message reached the broker.
    """
    kwargs = kwargs or {}
    if app.conf.task_always_eager:
        app.tasks[task_name].apply_async(args=list(args), kwargs=kwargs)
        return True
    try:
        app.send_task(task_name, args=list(args), kwargs=kwargs, retry_policy=SEND_RETRY_POLICY)
        return True
    except BROKER_ERRORS as error:
        from notifications.models import PendingTask

        logger.warning("Broker unreachable; job %s recorded for a later run: %s", task_name, error)
        PendingTask.objects.create(
            task_name=task_name, args=list(args), kwargs=kwargs, last_error=str(error)[:500]
        )
        return False


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task(*args, **kwargs)` once the current transaction commits; never raise for it.

    Arguments must be JSON-serialisable (ids, not model instances).
    """
    from django.db import transaction

    name = task if isinstance(task, str) else task.name
    # Under CELERY_TASK_ALWAYS_EAGER (tests) a failing task must still fail the test.
    robust = not app.conf.task_always_eager
    transaction.on_commit(lambda: send_or_record(name, args, kwargs), robust=robust)
