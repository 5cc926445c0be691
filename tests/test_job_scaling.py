"""Every periodic job runs as many SQL queries for 30 customers as for 3.

Each job gets work for every customer of a small and of a larger data set (due visits, missed
complaint deadlines, ended contracts, ...). Both sets are built and measured in a savepoint that
is rolled back, so each run starts from the same state; the test checks that the job did its
work for every customer and that the query counts are equal. A job that queried once per
customer (or per customer's row) would fail here. Chunked jobs are also run with a small
JOB_CHUNK_SIZE: their count then grows by the same number of queries per chunk.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AssignmentChange, AssignmentKind, Customer, CustomerStatus, DecisionRole
from accounts.services import pool_return_run
from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintEvent, Status
from contracts import services as contract_services
from contracts.models import Contract, ContractStatus
from dashboard.models import Heartbeat, MonthlyFeedback, MonthlyVisits, RiskSignal
from dashboard.services import heartbeat_record
from dashboard.summaries import refresh_summaries
from notifications.models import Notification, PendingTask
from notifications.services import pending_tasks_resend
from tests.contracts.factories import admitted_customer, draft_contract
from tests.factories import ContactFactory, CustomerFactory, TransactionFactory
from tests.receivables.factories import contract_in_force
from tests.tiers.factories import assess, key_account
from tiers.models import TierPolicy
from tiers.services import grading_run_compute
from visits.models import (
    CareTask,
    InformationFeedback,
    PlannedVisit,
    VisitRecord,
    VisitStatus,
)
from visits.services import visit_plan_regenerate, visits_daily_run

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30
TZ = timezone.get_default_timezone()
# A Friday in Shanghai, a week before Labour Day (a holiday greeting for A and B customers).
NOW = datetime.datetime(2026, 4, 24, 7, 0, tzinfo=TZ)
TODAY = NOW.date()
LONG_AGO = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=TZ)


def measure(build: Callable[[int], object], run: Callable[[], object], check) -> dict[int, int]:
    """Return {customers: queries} for SMALL and LARGE, each built and run from the same state."""
    counts = {}
    for size in (SMALL, LARGE):
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            data = build(size)
            with CaptureQueriesContext(connection) as captured:
                result = run()
            check(size, data, result)
            counts[size] = len(captured)
            transaction.set_rollback(True)
    return counts


def assert_same(counts: dict[int, int]) -> None:
    assert counts[SMALL] == counts[LARGE], counts


@pytest.fixture
def managers(manager, manager2, head):
    return [manager, manager2]


# --- accounts: pool warnings and automatic return --------------------------------------------


def test_pool_return(managers):
    def build(size):
        for index in range(size):
            manager = managers[index % 2]
            # Tier D returns after 90 days without contact, with a warning 7 days ahead.
            for days in (200, 85):
                customer = CustomerFactory(
                    department=manager.department,
                    primary_manager=manager,
                    status=CustomerStatus.ACTIVE,
                    tier="D",
                    created_at=LONG_AGO,
                )
                AssignmentChange.objects.create(
                    customer=customer,
                    role="primary_manager",
                    kind=AssignmentKind.CLAIM,
                    new_user=manager,
                    changed_by=manager,
                    changed_at=NOW - timedelta(days=days),
                    reason="test",
                )

    def check(size, _data, result):
        assert result == {"warned": size, "returned": size}
        assert Customer.objects.filter(primary_manager__isnull=True).count() == size

    assert_same(measure(build, lambda: pool_return_run(today=TODAY), check))


# --- visits: reminders, care tasks, archive checks; plan regeneration --------------------------


def _a_tier_customers(size, managers, **fields):
    customers = []
    for index in range(size):
        manager = managers[index % 2]
        fields.setdefault("created_at", LONG_AGO)
        customers.append(
            CustomerFactory(
                department=manager.department,
                primary_manager=manager,
                status=CustomerStatus.ACTIVE,
                tier="A",
                **fields,
            )
        )
    return customers


def test_visits_daily_job(managers):
    def build(size):
        for customer in _a_tier_customers(size, managers):
            PlannedVisit.objects.create(
                customer=customer,
                due_date=TODAY - timedelta(days=1),
                assigned_to_id=customer.primary_manager_id,
            )
            ContactFactory(
                customer=customer,
                decision_role=DecisionRole.DECISION_MAKER,
                birthday=datetime.date(1975, 4, 26),
            )

    def check(size, _data, result):
        assert result["reminders"]["reminded"] == size
        assert result["care"]["created"] == 2 * size  # Labour Day and a birthday each
        assert CareTask.objects.count() == 2 * size
        assert result["archive"]["reminded"] == 2  # one digest per manager

    assert_same(measure(build, lambda: visits_daily_run(today=TODAY), check))


def _plans_to_regenerate(size, managers):
    """Active A-tier customers created on different days: half without an open plan, half with
    one on a wrong date, so every customer gets a new plan or a different due date."""
    interval = TierPolicy.objects.get(tier="A").visit_interval_days
    expected = {}
    for index in range(size):
        (customer,) = _a_tier_customers(1, managers, created_at=LONG_AGO + timedelta(days=index))
        expected[customer.pk] = (LONG_AGO + timedelta(days=index)).date() + timedelta(interval)
        if index % 2:
            PlannedVisit.objects.create(
                customer=customer, due_date=TODAY, assigned_to=customer.primary_manager
            )
    return expected


def _check_plans(size, expected, result):
    assert result["created"] + result["updated"] == size
    assert result["updated"] == size // 2
    plans = dict(
        PlannedVisit.objects.filter(status=VisitStatus.PLANNED).values_list(
            "customer_id", "due_date"
        )
    )
    assert plans == expected


def test_visit_plan_regeneration(managers):
    build = lambda size: _plans_to_regenerate(size, managers)  # noqa: E731
    assert_same(measure(build, visit_plan_regenerate, _check_plans))


def test_visit_plan_regeneration_of_listed_customers(managers):
    listed = []

    def build(size):
        expected = _plans_to_regenerate(size, managers)
        listed[:] = list(expected)
        return expected

    run = lambda: visit_plan_regenerate(customer_ids=listed)  # noqa: E731
    assert_same(measure(build, run, _check_plans))


def test_visit_plan_regeneration_grows_only_with_the_chunks(managers, settings):
    settings.JOB_CHUNK_SIZE = 10
    counts = {}
    for size in (10, 20, 30):
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            expected = _plans_to_regenerate(size, managers)
            with CaptureQueriesContext(connection) as captured:
                result = visit_plan_regenerate()
            _check_plans(size, expected, result)
            counts[size] = len(captured)
            transaction.set_rollback(True)
    # Per chunk: its ids, its customers' rows, one INSERT of new plans, one UPDATE of moves.
    assert counts[20] - counts[10] == counts[30] - counts[20] == 4, counts


# --- complaints: missed deadlines, escalation, follow-ups --------------------------------------


def test_complaint_deadlines(managers):
    def build(size):
        for customer in _a_tier_customers(size, managers):
            complaint_services.complaint_create(
                created_by=customer.primary_manager,
                customer=customer,
                channel="phone",
                category="delivery",
                severity="high",
                description="交货延迟",
                received_at=NOW - timedelta(days=10),
            )
            resolved = complaint_services.complaint_create(
                created_by=customer.primary_manager,
                customer=customer,
                channel="phone",
                category="service",
                severity="low",
                description="包装破损",
                received_at=NOW - timedelta(hours=1),
            )
            Complaint.objects.filter(pk=resolved.pk).update(
                status=Status.RESOLVED, follow_up_due_on=TODAY - timedelta(days=1)
            )

    def check(size, _data, result):
        assert result == {
            "response_breaches": size,
            "resolution_breaches": size,
            "escalated": size,
            "follow_ups": size,
        }
        assert Complaint.objects.filter(status=Status.ESCALATED).count() == size
        assert ComplaintEvent.objects.filter(to_status=Status.ESCALATED).count() == size
        assert (
            Notification.objects.filter(dedup_key__startswith="complaint-escalated").count() == size
        )

    assert_same(
        measure(build, lambda: complaint_services.complaint_check_deadlines(now=NOW), check)
    )


# --- contracts: expiry and reminders; receivables ----------------------------------------------


def test_contracts_daily_job(managers):
    def build(size):
        for index in range(size):
            manager = managers[index % 2]
            customer = admitted_customer(manager=manager)
            for end in (TODAY - timedelta(days=1), TODAY + timedelta(days=5)):
                contract = draft_contract(
                    owner=manager,
                    customer=customer,
                    start_date=TODAY.replace(month=1),
                    end_date=end,
                )
                Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE)

    def check(size, _data, result):
        assert result == {"expired": size, "reminders": size}
        assert Contract.history.filter(status=ContractStatus.EXPIRED).count() == size

    assert_same(measure(build, lambda: contract_services.contracts_daily_job(today=TODAY), check))


def test_receivable_reminders(managers, head):
    monday = datetime.date(2026, 4, 27)

    def build(size):
        for index in range(size):
            contract_in_force(
                manager=managers[index % 2],
                head=head,
                plan=[
                    (datetime.date(2026, 3, 20), 100000),  # overdue: in the head's digest
                    (monday, 100000),  # due on the day
                    (monday + timedelta(days=7), 100000),  # due in 7 days
                ],
            )

    def check(size, _data, result):
        assert result == {"due": 2 * size, "digests": 1}

    run = lambda: contract_services.receivables_send_reminders(today=monday)  # noqa: E731
    assert_same(measure(build, run, check))


# --- tiers: the quarterly re-grading ------------------------------------------------------------


def test_regrade():
    def build(size):
        for _index in range(size):
            customer = key_account()
            TransactionFactory(
                customer=customer,
                date=datetime.date(2025, 11, 10),
                amount=Decimal("100000"),
                profit=Decimal("10000"),
                due_date=datetime.date(2025, 12, 10),
                paid_date=datetime.date(2025, 12, 10),
            )
            assess(customer, 70, at=datetime.datetime(2026, 1, 10, tzinfo=TZ))

    def check(size, _data, run):
        assert run.grade_count == size

    assert_same(measure(build, lambda: grading_run_compute(period="2026Q1"), check))


# --- notifications and dashboard: re-sending jobs, beat's heartbeat ----------------------------


def test_pending_tasks_resend(managers):
    def build(size):
        for customer in _a_tier_customers(size, managers):
            PendingTask.objects.create(
                task_name="visits.tasks.visit_plan_regenerate_task", args=[[customer.pk]]
            )

    def check(size, _data, sent):
        assert sent == size
        assert not PendingTask.objects.exists()

    from config.celery import app

    with mock.patch.object(app, "send_task"):
        assert_same(measure(build, pending_tasks_resend, check))


def test_summaries_refresh(managers):
    def build(size):
        for customer in _a_tier_customers(size, managers):
            # Purchases doubled from one 4-week window to the next: on the early-warning list.
            for days_ago, amount in ((40, "100000"), (5, "200000")):
                day = TODAY - timedelta(days=days_ago)
                TransactionFactory(
                    customer=customer, date=day, amount=Decimal(amount), due_date=day
                )
            # A visit plan done on time with its record, and a piece of feedback.
            manager, day = customer.primary_manager, TODAY - timedelta(days=5)
            done = VisitRecord.objects.create(
                customer=customer,
                date=day,
                purpose="回访",
                summary="ok",
                recorded_by=manager,
                satisfaction=5,
            )
            PlannedVisit.objects.create(
                customer=customer,
                assigned_to=manager,
                due_date=day,
                status=VisitStatus.COMPLETED,
                completed_by_record=done,
            )
            InformationFeedback.objects.create(
                customer=customer,
                category="needs",
                content="需求",
                customer_tier="A",
                submitted_by=manager,
                submitted_at=NOW - timedelta(days=5),
            )

    def check(size, _data, result):
        # sales: 2 months x 2 managers; visits and feedback: this month x 2 managers
        assert result == {"sales": 4, "visits": 2, "feedback": 2, "risks": size}
        assert RiskSignal.objects.count() == size
        assert sum(MonthlyVisits.objects.values_list("on_time", flat=True)) == size
        assert sum(MonthlyFeedback.objects.values_list("tier_a", flat=True)) == size

    assert_same(measure(build, lambda: refresh_summaries(today=TODAY), check))


def test_heartbeat(managers):
    def check(_size, _data, _result):
        assert Heartbeat.objects.get().beat_at == NOW

    assert_same(measure(lambda size: _a_tier_customers(size, managers), heartbeat_record, check))
