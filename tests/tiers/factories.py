"""Data for the tiers tests: key accounts with transactions and assessments."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.models import CustomerStatus
from tests.factories import CustomerFactory, TransactionFactory
from tiers import services
from tiers.models import Assessment, Grade, GradingRun

SHANGHAI = ZoneInfo("Asia/Shanghai")
ASSESSED = [
    "industry_outlook",
    "growth_trend",
    "expansion_potential",
    "credit_rating",
    "financial_health",
    "recommendation",
    "brand_recognition",
]


def key_account(**fields):
    fields.setdefault("status", CustomerStatus.ACTIVE)
    fields.setdefault("created_at", datetime.datetime(2024, 1, 1, tzinfo=SHANGHAI))
    return CustomerFactory(**fields)


def assess(customer, value, *, codes=ASSESSED, at=None, user=None):
    at = at or datetime.datetime(2026, 9, 1, 10, tzinfo=SHANGHAI)
    return Assessment.objects.bulk_create(
        Assessment(
            customer=customer,
            indicator_code=code,
            value=Decimal(value),
            period="2026Q3",
            assessed_at=at,
            assessed_by=user,
        )
        for code in codes
    )


def worked_example_customer(**fields):
    """The design's worked example for period 2026Q3 (with another customer making 99 % of
    the profit so that this one has 1 %)."""
    customer = key_account(**fields)
    quarters = [
        datetime.date(2025, 11, 10),
        datetime.date(2026, 2, 10),
        datetime.date(2026, 5, 10),
    ]
    for index in range(12):
        day = quarters[index % 3] + datetime.timedelta(days=index)
        TransactionFactory(
            customer=customer,
            date=day,
            amount=Decimal("208333.33") if index else Decimal("208333.37"),
            profit=Decimal("1000"),
            due_date=day + datetime.timedelta(days=30),
            paid_date=day + datetime.timedelta(days=30),
        )
    assess(customer, 80)
    return customer


def big_profit_customer(profit=Decimal("1188000"), **fields):
    customer = key_account(**fields)
    TransactionFactory(
        customer=customer,
        date=datetime.date(2026, 3, 1),
        amount=Decimal("5000000"),
        profit=profit,
        due_date=datetime.date(2026, 3, 1),
        paid_date=datetime.date(2026, 3, 1),
    )
    return customer


def reviewed(period, executive, head, tiers=None) -> GradingRun:
    """Compute a period and send it for review; the head overrides the tiers given."""
    run = services.grading_run_compute(period=period, computed_by=executive)
    services.grading_run_start_review(run=run, started_by=executive)
    for customer, tier in (tiers or {}).items():
        grade = Grade.objects.get(run=run, customer=customer)
        services.grade_override(grade=grade, tier=tier, reason="审核调整", overridden_by=head)
    run.refresh_from_db()
    return run


def published(period, executive, head, tiers=None) -> GradingRun:
    run = reviewed(period, executive, head, tiers)
    return services.grading_run_publish(run=run, published_by=executive)
