"""Payment plans: they add up to the contract amount, or are refused with a clear message."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

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


def test_a_plan_drafted_with_the_contract_is_all_or_nothing(manager):
    customer = admitted_customer(manager=manager)
    values = {
        "title": "供货合同",
        "amount": Decimal("300000"),
        "start_date": D(2026, 1, 1),
        "end_date": D(2026, 12, 31),
    }
    with pytest.raises(BusinessRuleError, match="add up"):
        services.contract_create(
            customer=customer,
            created_by=manager,
            instalments=[{"due_date": D(2026, 3, 1), "amount": Decimal("200000")}],
            **values,
        )
    assert not customer.contracts.exists()
    contract = services.contract_create(
        customer=customer,
        created_by=manager,
        instalments=[
            {"due_date": D(2026, 3, 1), "amount": Decimal("200000")},
            {"due_date": D(2026, 9, 1), "amount": Decimal("100000")},
        ],
        **values,
    )
    assert contract.instalments.count() == 2


def test_the_new_contract_page_takes_a_plan(client_for, manager):
    customer = admitted_customer(manager=manager)
    data = {
        "customer": customer.pk,
        "title": "t",
        "amount": "1000",
        "discount_percent": "0",
        "start_date": "2026-02-01",
        "end_date": "2027-01-31",
        "plan-TOTAL_FORMS": "4",
        "plan-INITIAL_FORMS": "0",
        "plan-0-due_date": "2026-03-01",
        "plan-0-amount": "400",
        "plan-1-due_date": "2026-06-01",
        "plan-1-amount": "600",
    }
    response = client_for(manager).post(reverse("contracts:create"), data)
    assert response.status_code == 302
    assert customer.contracts.get().instalments.count() == 2
