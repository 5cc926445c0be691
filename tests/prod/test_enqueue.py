"""enqueue_on_commit: sent after commit, never for a rollback, recorded when the broker is down."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from config import celery as crm_celery
from config.celery import enqueue_on_commit, send_or_record
from notifications.models import Notification, PendingTask
from notifications.services import pending_tasks_resend
from notifications.tasks import notify_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def not_eager():
    """Send for real (to a mocked broker) instead of running tasks inline."""
    conf = crm_celery.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    try:
        with mock.patch.object(crm_celery.app, "send_task") as send_task:
            yield send_task
    finally:
        conf.task_always_eager = eager


def test_it_sends_only_after_commit(not_eager, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(notify_task, manager.pk, "Hello")
        assert not_eager.call_count == 0
    not_eager.assert_called_once()
    assert not_eager.call_args.args == ("notifications.tasks.notify_task",)
    assert not_eager.call_args.kwargs["args"] == [manager.pk, "Hello"]


def test_it_sends_nothing_for_a_rolled_back_change(not_eager, manager):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(notify_task, manager.pk, "Hello")
        raise RuntimeError
    assert not_eager.call_count == 0
    assert not PendingTask.objects.exists()


def test_a_broker_fault_records_the_job_instead_of_failing(not_eager, manager):
    not_eager.side_effect = OperationalError("Connection refused")
    assert send_or_record("notifications.tasks.notify_task", [manager.pk, "Hi"], {}) is False
    pending = PendingTask.objects.get()
    assert (pending.args, pending.kwargs) == ([manager.pk, "Hi"], {})
    assert "refused" in pending.last_error


def test_resend_keeps_the_job_while_the_broker_is_down_then_sends_it_once(not_eager, manager):
    PendingTask.objects.create(task_name="notifications.tasks.notify_task", args=[manager.pk, "x"])
    not_eager.side_effect = OperationalError("down")
    assert pending_tasks_resend() == 0
    assert PendingTask.objects.get().attempts == 1
    not_eager.side_effect = None
    assert pending_tasks_resend() == 1
    assert pending_tasks_resend() == 0
    assert not PendingTask.objects.exists()
    assert not_eager.call_count == 2  # one refused attempt, one delivery


def test_a_job_claimed_by_another_run_is_left_to_it(not_eager, manager):
    from django.utils import timezone

    PendingTask.objects.create(
        task_name="notifications.tasks.notify_task",
        args=[manager.pk, "x"],
        claimed_at=timezone.now(),
    )
    assert pending_tasks_resend() == 0
    assert not_eager.call_count == 0


def test_eager_mode_runs_the_task_inline(manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(notify_task, manager.pk, "Inline", dedup_key="k")
        enqueue_on_commit(notify_task, manager.pk, "Inline", dedup_key="k")
    assert Notification.objects.filter(recipient=manager, message="Inline").count() == 1
