"""The receivables facts and the tier score's payment_record agree on the same data.

payment_record (DESIGN.md): the share of transactions due in the 12-month window that were paid
on or before their due date; unpaid and past due counts as late. Deliveries of instalments are
transactions that carry the instalment's code; their due and paid dates are written from the
receivables facts (never typed), and rewritten when finance confirms a collection.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts import services as accounts_services
from accounts.models import CreditTerms, Customer, Transaction
from contracts import selectors
from tests.contracts.factories import admitted_customer

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date
WINDOW = (D(2025, 10, 1), D(2026, 9, 30))  # the 12 months ending on 2026Q3's last day


def payment_record_by_design(transactions, *, start, end):
    """DESIGN.md's definition, written out independently over transaction rows."""
    due = [t for t in transactions if t.due_date and start <= t.due_date <= end]
    if not due:
        return None
    on_time = [t for t in due if t.paid_date is not None and t.paid_date <= t.due_date]
    return Decimal(len(on_time)) * 100 / Decimal(len(due))


def deliver(instalment, user, on):
    return accounts_services.transaction_add(
        customer=instalment.contract.customer,
        added_by=user,
        date=on,
        amount=instalment.amount,
        reference=instalment.code,
    )


@pytest.fixture
def scenario(manager, head, finance):
    """Five instalments: on time, late, partly paid past due, unpaid past due, outside window."""
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("10000000")
    )
    plan = [
        (D(2026, 2, 1), 100000),
        (D(2026, 3, 1), 100000),
        (D(2026, 4, 1), 100000),
        (D(2026, 5, 1), 100000),
        (D(2026, 12, 1), 100000),
    ]
    with time_machine.travel(at(2026, 1, 5)):
        contract = contract_in_force(
            manager=manager, head=head, customer=customer, amount="500000", plan=plan
        )
        rows = list(contract.instalments.order_by("sequence"))
        for row in rows:  # goods delivered on credit before any payment
            deliver(row, manager, D(2026, 1, 5))
    with time_machine.travel(at(2026, 2, 1)):
        pay(contract, manager, 100000, D(2026, 2, 1), confirm_by=finance)  # #1 on the day
    with time_machine.travel(at(2026, 3, 20)):
        pay(contract, manager, 100000, D(2026, 3, 20), confirm_by=finance)  # #2 late
    with time_machine.travel(at(2026, 4, 1)):
        pay(contract, manager, 40000, D(2026, 3, 30), confirm_by=finance)  # #3 partly
    return customer, contract


def test_the_transactions_carry_the_receivables_facts(scenario):
    customer, contract = scenario
    facts = {row.code: (row.due_date, row.paid_on) for row in selectors.instalments_of(contract)}
    rows = Transaction.objects.filter(customer=customer)
    stored = {t.reference: (t.due_date, t.paid_date) for t in rows}
    assert stored == facts
    assert facts[f"{contract.number}/1"] == (D(2026, 2, 1), D(2026, 2, 1))
    assert facts[f"{contract.number}/2"] == (D(2026, 3, 1), D(2026, 3, 20))
    assert facts[f"{contract.number}/3"] == (D(2026, 4, 1), None)


def test_the_receivables_page_and_payment_record_agree(scenario):
    customer, _contract = scenario
    start, end = WINDOW
    by_design = payment_record_by_design(
        Transaction.objects.filter(customer=customer), start=start, end=end
    )
    from_receivables = selectors.payment_record_from_receivables(customer, start=start, end=end)
    assert by_design == from_receivables == Decimal(25)  # 1 of 4 due in the window on time


def test_they_still_agree_after_a_late_payment_is_confirmed(scenario, manager, finance):
    customer, contract = scenario
    with time_machine.travel(at(2026, 5, 1)):
        pay(contract, manager, 60000 + 100000, D(2026, 5, 1), confirm_by=finance)
    start, end = WINDOW
    by_design = payment_record_by_design(
        Transaction.objects.filter(customer=customer), start=start, end=end
    )
    assert by_design == selectors.payment_record_from_receivables(customer, start=start, end=end)
    assert by_design == Decimal(50)  # #1 on time, #4 paid on its due date


def test_the_tier_computation_agrees(scenario):
    """The real tiers computation (set-based SQL) reads the same rows and agrees."""
    from tiers import computation, scoring

    customer, _contract = scenario
    period = scoring.Period(2026, 3)
    assert (period.window_start, period.end) == WINDOW
    rows = list(
        computation.customer_rows(
            period, scoring.DEFAULT_MODEL, customers=Customer.objects.filter(pk=customer.pk)
        )
    )
    start, end = WINDOW
    expected = selectors.payment_record_from_receivables(customer, start=start, end=end)
    assert rows[0].raws[scoring.PAYMENT_RECORD] == expected == Decimal(25)


def test_the_pure_tier_scoring_agrees(scenario):
    from tiers import scoring

    customer, _contract = scenario
    txs = [
        scoring.Tx(
            customer_id=t.customer_id,
            date=t.date,
            amount=t.amount,
            profit=t.profit,
            due_date=t.due_date,
            paid_date=t.paid_date,
        )
        for t in Transaction.objects.filter(customer=customer)
    ]
    raws = scoring.computed_raws(txs, scoring.Period(2026, 3), [customer.pk])
    start, end = WINDOW
    assert raws[customer.pk][scoring.PAYMENT_RECORD] == selectors.payment_record_from_receivables(
        customer, start=start, end=end
    )
