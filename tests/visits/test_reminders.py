"""The daily reminder job: once per visit a day, digests by e-mail, bounded queries, races."""

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from tests.factories import UserFactory
from visits.models import PlannedVisit, VisitReminder
from visits.services import visit_plan_regenerate, visit_record_create, visit_reminders_send

from .factories import active_customer, at

TODAY = date(2026, 11, 23)


def plan(customer, due):
    PlannedVisit.objects.filter(customer=customer).delete()
    return PlannedVisit.objects.create(
        customer=customer, due_date=due, assigned_to=customer.primary_manager
    )


@pytest.fixture
def three_visits(manager):
    """Overdue by 3 days, due in 3 days, and due in 4 days (not yet reminded)."""
    return [
        plan(active_customer(manager, name="华鼎机械"), TODAY - timedelta(days=3)),
        plan(active_customer(manager, name="恒信能源"), TODAY + timedelta(days=3)),
        plan(active_customer(manager, name="瑞丰商贸"), TODAY + timedelta(days=4)),
    ]


def test_running_twice_the_same_day_sends_each_reminder_once(
    django_capture_on_commit_callbacks, manager, three_visits
):
    overdue, soon, later = three_visits
    with django_capture_on_commit_callbacks(execute=True):
        first = visit_reminders_send(today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        second = visit_reminders_send(today=TODAY)

    assert first == {"reminded": 2, "people": 1, "emails": 1}
    assert second == {"reminded": 0, "people": 0, "emails": 0}
    keys = set(Notification.objects.filter(recipient=manager).values_list("dedup_key", flat=True))
    assert keys == {
        f"visit-reminder:{overdue.pk}:2026-11-23",
        f"visit-reminder:{soon.pk}:2026-11-23",
    }
    assert len(mail.outbox) == 1  # one digest
    body = mail.outbox[0].body
    assert "华鼎机械" in body and "恒信能源" in body and "瑞丰商贸" not in body
    assert mail.outbox[0].to == [manager.email]


def test_a_frozen_clock_across_several_days(manager, manager2, three_visits):
    overdue, soon, later = three_visits
    sent = {}
    for offset in range(4):
        day = TODAY + timedelta(days=offset)
        with time_machine.travel(at(day), tick=False):
            if offset == 2:  # the overdue visit is recorded on the third day
                visit_record_create(
                    customer=overdue.customer,
                    recorded_by=manager,
                    participants=[manager, manager2],
                    date=day,
                    purpose="补拜访",
                    summary="已完成",
                )
            visit_reminders_send()
            visit_reminders_send()  # a rerun the same day adds nothing
            sent[day] = set(
                VisitReminder.objects.filter(day=day).values_list("planned_visit_id", flat=True)
            )
    assert sent[TODAY] == {overdue.pk, soon.pk}
    assert sent[TODAY + timedelta(days=1)] == {overdue.pk, soon.pk, later.pk}
    assert sent[TODAY + timedelta(days=2)] == {soon.pk, later.pk}  # overdue one was recorded
    assert sent[TODAY + timedelta(days=3)] == {soon.pk, later.pk}
    assert Notification.objects.filter(dedup_key__startswith="visit-reminder:").count() == 9


def test_each_person_gets_their_own_digest(django_capture_on_commit_callbacks, manager, manager2):
    plan(active_customer(manager), TODAY)
    plan(active_customer(manager2), TODAY - timedelta(days=10))
    plan(active_customer(manager2), TODAY + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        visit_reminders_send(today=TODAY)
    assert sorted(len(m.body.splitlines()) > 0 and m.to[0] for m in mail.outbox) == sorted(
        [manager.email, manager2.email]
    )
    assert Notification.objects.filter(recipient=manager2).count() == 2


def test_inactive_or_missing_assignees_are_skipped(manager):
    gone = UserFactory(is_active=False, department=manager.department)
    plan(active_customer(manager, primary_manager=gone), TODAY)
    PlannedVisit.objects.create(customer=active_customer(manager), due_date=TODAY)
    assert visit_reminders_send(today=TODAY)["reminded"] == 0


def _queries(today):
    with CaptureQueriesContext(connection) as captured:
        visit_reminders_send(today=today)
    return len(captured)


def test_the_query_count_does_not_grow_with_the_visits(manager, manager2):
    for _ in range(2):
        plan(active_customer(manager), TODAY)
    few = _queries(TODAY)
    for n in range(40):
        plan(active_customer(manager if n % 2 else manager2), TODAY - timedelta(days=n))
    many = _queries(TODAY + timedelta(days=1))
    assert many == few


def test_the_command_runs_the_daily_job(manager, three_visits):
    call_command("send_visit_reminders", "--date", "2026-11-23")
    call_command("send_visit_reminders", "--date", "2026-11-23")
    assert VisitReminder.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_send_each_reminder_once(manager):
    """Threads against the real database: SQLite (IMMEDIATE transactions) or PostgreSQL
    (advisory lock); run it with DATABASE_URL=postgres://… for the latter."""
    for n in range(30):
        plan(active_customer(manager), TODAY - timedelta(days=n % 5))
    mail.outbox = []
    # Load the template engine first: Django's lazy set-up of template libraries is not
    # thread-safe on first use (a worker process has done it long before).
    render_to_string("visits/email/visit_reminders-subject.txt", {"count": 0})
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(visit_reminders_send(today=TODAY))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(r["reminded"] for r in results) == [0, 0, 0, 30]
    assert Notification.objects.filter(dedup_key__startswith="visit-reminder:").count() == 30
    assert VisitReminder.objects.count() == 30
    assert len(mail.outbox) == 1


def test_regeneration_then_reminders_reach_overdue_customers(manager):
    with time_machine.travel(at(TODAY - timedelta(days=40)), tick=False):
        customer = active_customer(manager, tier="A")
        visit_plan_regenerate()
    assert visit_reminders_send(today=TODAY)["reminded"] == 1
    assert PlannedVisit.objects.get(customer=customer).is_overdue(TODAY)
