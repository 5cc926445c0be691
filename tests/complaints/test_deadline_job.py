"""The 15-minute job: breaches marked once, one notification each, one escalation."""

from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from complaints import services
from complaints.models import Complaint, ComplaintEvent, EventKind, Status
from notifications.models import Notification
from tiers.models import TierPolicy

RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(("tier", "hours"), [("A", 2), ("B", 4), ("C", 8), ("D", 24), ("", 24)])
def test_response_deadline_follows_the_tier_policy(tier, hours, customer, make_complaint):
    customer.tier = tier
    customer.save()
    assert TierPolicy.objects.for_tier(tier or "D").complaint_response_hours == hours
    with time_machine.travel(RECEIVED + timedelta(minutes=1), tick=False):
        complaint = make_complaint(received_at=RECEIVED, severity="medium")
    assert complaint.response_due_at == RECEIVED + timedelta(hours=hours)
    assert complaint.resolution_due_at == RECEIVED + timedelta(days=7)


def test_intake_assigns_the_primary_manager(make_complaint, manager):
    complaint = make_complaint()
    assert complaint.assignee == manager
    assert complaint.reference.startswith("CP-2026-")


def _run_job_twice(now):
    with time_machine.travel(now, tick=False):
        services.complaint_check_deadlines()
        call_command("check_complaint_deadlines", stdout=io.StringIO())


def test_the_job_run_twice_marks_notifies_and_escalates_once(make_complaint, manager, head):
    with time_machine.travel(RECEIVED, tick=False):
        complaint = make_complaint(received_at=RECEIVED, severity="critical")  # tier B: 4 h
    _run_job_twice(RECEIVED + timedelta(hours=3))
    complaint.refresh_from_db()
    assert complaint.status == Status.NEW and complaint.response_breached_at is None

    _run_job_twice(RECEIVED + timedelta(hours=5))
    complaint.refresh_from_db()
    assert complaint.response_breached_at == RECEIVED + timedelta(hours=5)
    assert complaint.status == Status.ESCALATED and complaint.escalated_to == head
    for user in (manager, head):
        assert (
            Notification.objects.filter(
                recipient=user, dedup_key=f"complaint-response-breach:{complaint.pk}"
            ).count()
            == 1
        )
    assert Notification.objects.filter(dedup_key=f"complaint-escalated:{complaint.pk}").count() == 1
    assert complaint.events.filter(to_status=Status.ESCALATED).count() == 1

    # The head takes it back to work; the resolution deadline (24 h) then passes: a new breach
    # is marked and notified, but the complaint is not escalated a second time.
    services.complaint_transition(complaint=complaint, to_status=Status.IN_PROGRESS, by=head)
    _run_job_twice(RECEIVED + timedelta(hours=25))
    complaint.refresh_from_db()
    assert complaint.resolution_breached_at == RECEIVED + timedelta(hours=25)
    assert complaint.status == Status.IN_PROGRESS
    assert complaint.events.filter(to_status=Status.ESCALATED).count() == 1
    assert complaint.events.filter(kind=EventKind.BREACH).count() == 2
    assert (
        Notification.objects.filter(
            recipient=manager, dedup_key=f"complaint-resolution-breach:{complaint.pk}"
        ).count()
        == 1
    )


def test_an_acknowledged_complaint_does_not_miss_its_response(make_complaint, manager):
    with time_machine.travel(RECEIVED, tick=False):
        complaint = make_complaint(received_at=RECEIVED, severity="low")
        services.complaint_transition(
            complaint=complaint, to_status=Status.ACKNOWLEDGED, by=manager
        )
    _run_job_twice(RECEIVED + timedelta(days=1))
    complaint.refresh_from_db()
    assert complaint.response_breached_at is None and complaint.status == Status.ACKNOWLEDGED


def test_due_follow_ups_are_reminded_once(make_complaint, manager):
    with time_machine.travel(RECEIVED, tick=False):
        complaint = make_complaint(received_at=RECEIVED, status=Status.IN_PROGRESS)
        services.complaint_transition(complaint=complaint, to_status=Status.RESOLVED, by=manager)
    complaint.refresh_from_db()
    assert str(complaint.follow_up_due_on) == "2026-12-23"
    _run_job_twice(RECEIVED + timedelta(days=30, hours=1))
    key = f"complaint-follow-up:{complaint.pk}:2026-12-23"
    assert Notification.objects.filter(recipient=manager, dedup_key=key).count() == 1
    with time_machine.travel(RECEIVED + timedelta(days=31), tick=False):
        services.follow_up_add(
            complaint=complaint, by=manager, date=RECEIVED.date() + timedelta(days=31), note="回访"
        )
    complaint.refresh_from_db()
    assert str(complaint.follow_up_due_on) == "2027-01-24"  # a month after the follow-up
    services.complaint_impact_eliminate(complaint=complaint, by=manager)
    assert Complaint.objects.follow_up_due(RECEIVED.date() + timedelta(days=400)).count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_jobs_at_once_escalate_and_notify_once(make_complaint, manager, head):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locking for real concurrent writers")
    with time_machine.travel(RECEIVED, tick=False):
        complaints = [make_complaint(received_at=RECEIVED, severity="critical") for _ in range(5)]
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            services.complaint_check_deadlines(now=RECEIVED + timedelta(hours=30))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for complaint in complaints:
        assert (
            ComplaintEvent.objects.filter(complaint=complaint, to_status=Status.ESCALATED).count()
            == 1
        )
        assert (
            Notification.objects.filter(dedup_key=f"complaint-escalated:{complaint.pk}").count()
            == 1
        )
        for user in (manager, head):
            for kind in ("response", "resolution"):
                assert (
                    Notification.objects.filter(
                        recipient=user, dedup_key=f"complaint-{kind}-breach:{complaint.pk}"
                    ).count()
                    == 1
                )


def test_the_celery_task_runs_the_job(make_complaint, manager):
    from complaints.tasks import complaint_check_deadlines_task

    with time_machine.travel(RECEIVED, tick=False):
        complaint = make_complaint(received_at=RECEIVED, severity="critical")
    with time_machine.travel(RECEIVED + timedelta(hours=5), tick=False):
        summary = complaint_check_deadlines_task.delay().get()
    assert summary["response_breaches"] == 1 and summary["escalated"] == 1
    complaint.refresh_from_db()
    assert complaint.status == Status.ESCALATED


def test_the_job_is_scheduled_every_15_minutes():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["complaints-check-deadlines"]
    assert entry["task"] == "complaints.tasks.complaint_check_deadlines_task"
    assert entry["schedule"].minute == {0, 15, 30, 45}
