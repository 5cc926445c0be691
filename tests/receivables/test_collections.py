"""Collections: allocation by due date, partial and over-payments, finance confirms once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.errors import BusinessRuleError
from contracts import selectors, services
from contracts.models import Collection, InstalmentState

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date
PLAN = [(D(2026, 3, 1), 100000), (D(2026, 6, 1), 200000)]


def states(contract):
    return [
        (row.state, row.paid_amount, row.paid_on)
        for row in selectors.instalments_of(contract, today=D(2026, 2, 10))
    ]


@time_machine.travel(at(2026, 2, 10))
def test_a_partial_payment_counts_once_confirmed(manager, head, finance):
    contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    collection = pay(contract, manager, 40000, D(2026, 2, 9))
    assert states(contract)[0] == (InstalmentState.OPEN, Decimal("0"), None)
    services.collection_confirm(collection=collection, confirmed_by=finance)
    assert states(contract)[0] == (InstalmentState.PARTLY_PAID, Decimal("40000"), None)


@time_machine.travel(at(2026, 2, 10))
def test_a_payment_spreads_over_instalments_earliest_first(manager, head, finance):
    contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    pay(contract, manager, 150000, D(2026, 2, 8), confirm_by=finance)
    assert states(contract) == [
        (InstalmentState.PAID, Decimal("100000"), D(2026, 2, 8)),
        (InstalmentState.PARTLY_PAID, Decimal("50000"), None),
    ]


@time_machine.travel(at(2026, 2, 10))
def test_an_over_payment_is_refused_with_what_is_open(manager, head, finance):
    contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    pay(contract, manager, 250000, D(2026, 2, 8), confirm_by=finance)
    with pytest.raises(BusinessRuleError) as refused:
        pay(contract, manager, 60000, D(2026, 2, 9))
    assert "¥10,000.00 more than the ¥50,000.00" in refused.value.message
    assert Collection.objects.count() == 1
    pay(contract, manager, 50000, D(2026, 2, 9), confirm_by=finance)
    assert [row[0] for row in states(contract)] == [InstalmentState.PAID] * 2


@time_machine.travel(at(2026, 2, 10))
def test_an_unconfirmed_payment_still_reserves_its_instalments(manager, head):
    contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    pay(contract, manager, 300000, D(2026, 2, 8))
    with pytest.raises(BusinessRuleError, match="more than"):
        pay(contract, manager, 1, D(2026, 2, 9))


@time_machine.travel(at(2026, 2, 10))
def test_finance_confirms_exactly_once_and_only_finance(manager, head, finance):
    contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    collection = pay(contract, manager, 1000, D(2026, 2, 9))
    with pytest.raises(PermissionDenied):
        services.collection_confirm(collection=collection, confirmed_by=head)
    services.collection_confirm(collection=collection, confirmed_by=finance)
    with pytest.raises(BusinessRuleError, match="already been confirmed"):
        services.collection_confirm(collection=collection, confirmed_by=finance)
    collection.refresh_from_db()
    assert collection.confirmed_by == finance


@time_machine.travel(at(2026, 2, 10))
def test_money_in_the_future_or_without_a_plan_is_refused(manager, head):
    contract = contract_in_force(manager=manager, head=head)
    with pytest.raises(BusinessRuleError, match="payment plan"):
        pay(contract, manager, 1000, D(2026, 2, 9))
    with pytest.raises(BusinessRuleError, match="future"):
        pay(contract, manager, 1000, D(2026, 2, 11))


def test_paid_late_is_overdue_until_paid(manager, head, finance):
    with time_machine.travel(at(2026, 2, 10)):
        contract = contract_in_force(manager=manager, head=head, plan=PLAN)
    with time_machine.travel(at(2026, 3, 5)):
        row = selectors.instalments_of(contract).first()
        assert (row.state, row.bucket) == (InstalmentState.OVERDUE, "0-30")
        pay(contract, manager, 100000, D(2026, 3, 4), confirm_by=finance)
        row = selectors.instalments_of(contract).first()
        assert (row.state, row.bucket, row.paid_on) == (InstalmentState.PAID, "", D(2026, 3, 4))
