"""Payment plans: they add up to the contract amount, or are refused with a clear message."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.errors import BusinessRuleError
from contracts import services
from contracts.models import PaymentInstalment
from tests.contracts.factories import admitted_customer, draft_contract

from .factories import at, contract_in_force, pay, set_plan

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_plan_that_does_not_add_up_is_refused_with_the_difference(manager):
    contract = draft_contract(
        owner=manager, customer=admitted_customer(manager=manager), amount="300000.00"
    )
    with pytest.raises(BusinessRuleError) as short:
        set_plan(contract, manager, [(D(2026, 3, 1), 100000), (D(2026, 6, 1), 150000)])
    assert "¥250,000.00" in short.value.message
    assert "¥300,000.00" in short.value.message
    assert "¥50,000.00" in short.value.message
    with pytest.raises(BusinessRuleError) as over:
        set_plan(contract, manager, [(D(2026, 3, 1), 200000), (D(2026, 6, 1), 150000)])
    assert "¥50,000.00" in over.value.message
    assert not PaymentInstalment.objects.exists()


def test_a_plan_that_adds_up_is_numbered_by_due_date(manager):
    contract = draft_contract(owner=manager, customer=admitted_customer(manager=manager))
    set_plan(contract, manager, [(D(2026, 6, 1), "350000.00"), (D(2026, 3, 1), "150000.00")])
    rows = list(contract.instalments.order_by("sequence").values_list("sequence", "due_date"))
    assert rows == [(1, D(2026, 3, 1)), (2, D(2026, 6, 1))]


def test_a_draft_whose_amount_changed_cannot_be_submitted_with_the_old_plan(manager):
    contract = draft_contract(owner=manager, customer=admitted_customer(manager=manager))
    set_plan(contract, manager, [(D(2026, 3, 1), "500000.00")])
    services.contract_update(contract=contract, updated_by=manager, amount=Decimal("600000"))
    with pytest.raises(BusinessRuleError, match="no longer adds up"):
        services.contract_submit(contract=contract, submitted_by=manager)


def test_others_cannot_set_a_plan(manager, manager2):
    contract = draft_contract(owner=manager, customer=admitted_customer(manager=manager))
    with pytest.raises(PermissionDenied):
        set_plan(contract, manager2, [(D(2026, 3, 1), "500000.00")])


@time_machine.travel(at(2026, 2, 1))
def test_a_plan_is_set_after_approval_and_frozen_once_money_is_recorded(manager, head):
    contract = contract_in_force(manager=manager, head=head)
    set_plan(contract, manager, [(D(2026, 3, 1), 100000), (D(2026, 6, 1), 200000)])
    set_plan(contract, manager, [(D(2026, 4, 1), 300000)])  # replaced: nothing hangs off it
    assert contract.instalments.count() == 1
    pay(contract, manager, 1000, D(2026, 1, 30))
    with pytest.raises(BusinessRuleError, match="Collections are recorded"):
        set_plan(contract, manager, [(D(2026, 5, 1), 300000)])
