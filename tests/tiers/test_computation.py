"""The set-based computation agrees with the pure functions on the same data."""

import datetime
import random
from decimal import Decimal

import pytest

from accounts.models import CustomerStatus, Transaction
from tests.factories import TransactionFactory
from tiers import computation, scoring
from tiers.models import Assessment, ScoringModel

from .factories import (
    ASSESSED,
    SHANGHAI,
    assess,
    big_profit_customer,
    key_account,
    worked_example_customer,
)

PERIOD = scoring.parse_period("2026Q3")


def spec():
    return ScoringModel.objects.get(is_active=True).spec()


def test_the_default_model_is_installed_exactly(db):
    model = ScoringModel.objects.get(is_active=True)
    assert model.thresholds == (Decimal("85"), Decimal("70"), Decimal("55"))
    assert model.spec() == scoring.ModelSpec(
        tuple(
            scoring.IndicatorSpec(
                i.code, i.weight, i.full_marks_at, i.computed, name=s.name, dimension=i.dimension
            )
            for i, s in zip(scoring.DEFAULT_INDICATORS, model.spec().indicators, strict=True)
        ),
        model.thresholds,
    )


def test_the_worked_example_from_the_database(db):
    customer = worked_example_customer()
    big_profit_customer()  # 1,188,000 + 12,000 = 1,200,000 total: the example has 1 %
    rows = {row.customer_id: row for row in computation.customer_rows(PERIOD, spec())}
    result = scoring.score_customer(rows[customer.pk].raws, spec())
    assert rows[customer.pk].raws["annual_purchase"] == Decimal("2500000.00")
    assert rows[customer.pk].raws["profit_contribution"] == Decimal("1")
    assert (result.score, result.tier) == (Decimal("65.9"), "C")


def test_only_key_accounts_existing_at_the_period_end_are_graded(db):
    graded = key_account()
    key_account(status=CustomerStatus.PROSPECT)
    key_account(status=CustomerStatus.TERMINATED)
    key_account(created_at=datetime.datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI))
    just_in_time = key_account(created_at=datetime.datetime(2026, 9, 30, 23, 59, tzinfo=SHANGHAI))
    ids = [row.customer_id for row in computation.customer_rows(PERIOD, spec())]
    assert ids == sorted([graded.pk, just_in_time.pk])


def test_the_latest_assessment_on_or_before_the_period_end_counts(db):
    customer = key_account()
    assess(customer, 40, codes=["growth_trend"], at=datetime.datetime(2026, 7, 1, tzinfo=SHANGHAI))
    assess(
        customer, 60, codes=["growth_trend"], at=datetime.datetime(2026, 9, 30, 23, tzinfo=SHANGHAI)
    )  # noqa: E501
    assess(
        customer, 99, codes=["growth_trend"], at=datetime.datetime(2026, 10, 1, 0, tzinfo=SHANGHAI)
    )  # noqa: E501
    (row,) = computation.customer_rows(PERIOD, spec())
    assert row.raws["growth_trend"] == Decimal("60.0")
    assert row.raws["industry_outlook"] is None


def test_database_and_pure_versions_agree_on_random_data(db):
    rng = random.Random(7)
    customers = [key_account() for _ in range(25)]
    transactions = []
    for customer in customers[:-3]:  # the last three have no transactions
        for _ in range(rng.randint(0, 15)):
            day = datetime.date(2025, 7, 1) + datetime.timedelta(days=rng.randint(0, 500))
            due = day + datetime.timedelta(days=rng.choice([0, 30, 60]))
            paid = rng.choice(
                [None, due, due - datetime.timedelta(days=3), due + datetime.timedelta(days=9)]
            )  # noqa: E501
            transactions.append(
                Transaction(
                    customer=customer,
                    date=day,
                    amount=Decimal(rng.randint(1000, 900000)) + Decimal("0.37"),
                    profit=Decimal(rng.randint(-5000, 90000)) + Decimal("0.11"),
                    due_date=due if rng.random() < 0.9 else None,
                    paid_date=paid if paid is None or paid >= day else day,
                )
            )
        for code in ASSESSED:
            if rng.random() < 0.8:
                Assessment.objects.create(
                    customer=customer,
                    indicator_code=code,
                    value=Decimal(rng.randint(0, 1000)) / 10,
                    period="2026Q3",
                    assessed_at=datetime.datetime(2026, rng.randint(1, 9), 3, tzinfo=SHANGHAI),
                )
    Transaction.objects.bulk_create(transactions)
    model = spec()
    pure_tx = [
        scoring.Tx(t.customer_id, t.date, t.amount, t.profit, t.due_date, t.paid_date)
        for t in transactions
    ]
    expected_computed = scoring.computed_raws(pure_tx, PERIOD, [c.pk for c in customers])
    latest = {}
    for a in Assessment.objects.order_by("assessed_at", "id"):
        latest.setdefault(a.customer_id, {})[a.indicator_code] = a.value
    rows = list(computation.customer_rows(PERIOD, model))
    assert len(rows) == 25
    for row in rows:
        expected = {
            **expected_computed[row.customer_id],
            **{code: latest.get(row.customer_id, {}).get(code) for code in ASSESSED},
        }
        assert scoring.score_customer(row.raws, model) == scoring.score_customer(expected, model)


@pytest.mark.parametrize("paid", [None, datetime.date(2026, 9, 2)])
def test_unpaid_or_late_payment_counts_as_late(db, paid):
    customer = key_account()
    TransactionFactory(
        customer=customer,
        date=datetime.date(2026, 8, 1),
        due_date=datetime.date(2026, 9, 1),
        paid_date=paid,
    )
    TransactionFactory(
        customer=customer,
        date=datetime.date(2026, 8, 1),
        due_date=datetime.date(2026, 9, 1),
        paid_date=datetime.date(2026, 9, 1),
    )
    (row,) = computation.customer_rows(PERIOD, spec())
    assert row.raws["payment_record"] == Decimal("50")
