"""Rows for the dashboard tests, created directly so each figure can be counted by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from accounts.models import CustomerStatus, Transaction
from complaints.models import Complaint
from contracts.models import Contract
from tests.factories import CustomerFactory
from tiers.models import Grade, GradingRun, RunStatus, ScoringModel, movement_between
from visits.models import InformationFeedback, PlannedVisit, VisitRecord, VisitStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 20)
_numbers = count(1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


NOW = at(TODAY)


def d(month: int, day: int, year: int = 2026) -> datetime.date:
    return datetime.date(year, month, day)


def customer(manager=None, *, tier: str = "B", department=None, **fields):
    fields.setdefault("status", CustomerStatus.ACTIVE)
    fields.setdefault("created_at", at(d(1, 5, 2025)))
    return CustomerFactory(
        department=department or manager.department,
        primary_manager=manager,
        tier=tier,
        **fields,
    )


def sale(customer, day, amount, profit=0):
    return Transaction.objects.create(
        customer=customer, date=day, amount=Decimal(amount), profit=Decimal(profit)
    )


def run(period: str, status=RunStatus.PUBLISHED) -> GradingRun:
    model = ScoringModel.objects.order_by("version").first() or ScoringModel.objects.create(
        version=1, name="default"
    )
    return GradingRun.objects.create(
        period=period,
        scoring_model=model,
        status=status,
        window_start=d(1, 1),
        window_end=d(12, 31),
    )


def grade(run, customer, tier: str, previous: str = "") -> Grade:
    return Grade.objects.create(
        run=run,
        customer=customer,
        score=Decimal("60"),
        computed_tier=tier,
        tier=tier,
        previous_tier=previous,
        movement=movement_between(previous, tier),
    )


def record(customer, user, day, satisfaction=None) -> VisitRecord:
    return VisitRecord.objects.create(
        customer=customer,
        date=day,
        purpose="回访",
        summary="ok",
        recorded_by=user,
        satisfaction=satisfaction,
    )


def plan(customer, user, due, status=VisitStatus.PLANNED, done_on=None) -> PlannedVisit:
    done = record(customer, user, done_on) if done_on else None
    return PlannedVisit.objects.create(
        customer=customer,
        assigned_to=user,
        due_date=due,
        status=status,
        completed_by_record=done,
    )


def feedback(customer, user, day, tier=None) -> InformationFeedback:
    return InformationFeedback.objects.create(
        customer=customer,
        category="needs",
        content="需求",
        customer_tier=customer.tier if tier is None else tier,
        submitted_by=user,
        submitted_at=at(day),
    )


def complaint(
    customer,
    *,
    received,
    response_hours=4,
    resolution_hours=72,
    acknowledged_after=None,
    resolved_after=None,
    status="new",
    category="service",
    satisfaction=None,
) -> Complaint:
    """A complaint; *_after are hours after receipt (None: not yet)."""
    hours = datetime.timedelta(hours=1)
    return Complaint.objects.create(
        reference=f"TS-{next(_numbers):05d}",
        customer=customer,
        channel="phone",
        category=category,
        severity="high",
        description="问题",
        received_at=received,
        status=status,
        response_due_at=received + response_hours * hours,
        resolution_due_at=received + resolution_hours * hours,
        acknowledged_at=None
        if acknowledged_after is None
        else received + acknowledged_after * hours,
        resolved_at=None if resolved_after is None else received + resolved_after * hours,
        satisfaction=satisfaction,
        assignee=customer.primary_manager,
        created_by=customer.primary_manager,
    )


def contract(customer, owner, status, amount, created=None) -> Contract:
    return Contract.objects.create(
        number=f"HT-T-{next(_numbers):05d}",
        customer=customer,
        department=customer.department,
        title="合同",
        amount=Decimal(amount),
        start_date=d(1, 1),
        end_date=d(12, 31),
        owner=owner,
        status=status,
        created_by=owner,
        created_at=created or NOW,
    )
