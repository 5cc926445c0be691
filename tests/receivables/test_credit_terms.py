"""Credit terms: prepaid customers pay before delivery; credit customers keep to their limit."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts import services as accounts_services
from accounts.errors import BusinessRuleError
from accounts.models import CreditTerms, Transaction
from contracts import services
from contracts.models import ContractStatus, DeciderRole
from tests.contracts.factories import admitted_customer, approve_all, current_step, draft_contract

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date
DAY = D(2026, 2, 10)


def deliver(customer, user, amount, reference="", on=DAY):
    return accounts_services.transaction_add(
        customer=customer, added_by=user, date=on, amount=Decimal(amount), reference=reference
    )


@time_machine.travel(at(2026, 2, 10))
def test_a_prepaid_delivery_waits_for_the_confirmed_payment(manager, head, finance):
    customer = admitted_customer(manager=manager, credit_terms=CreditTerms.PREPAID)
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=customer,
        plan=[(D(2026, 2, 5), 100000), (D(2026, 3, 1), 200000)],
    )
    code = f"{contract.number}/1"
    with pytest.raises(BusinessRuleError, match="先款后货"):
        deliver(customer, manager, 100000, code)
    collection = pay(contract, manager, 100000, D(2026, 2, 8))
    with pytest.raises(BusinessRuleError, match="confirmed by finance"):
        deliver(customer, manager, 100000, code)  # recorded, not yet confirmed
    services.collection_confirm(collection=collection, confirmed_by=finance)
    record = deliver(customer, manager, 100000, code)
    # Delivered after the due date: the sale is dated the due date (accounts: due ≥ date).
    assert (record.date, record.due_date, record.paid_date) == (
        D(2026, 2, 5),
        D(2026, 2, 5),
        D(2026, 2, 8),
    )
    with pytest.raises(BusinessRuleError, match="already recorded"):
        deliver(customer, manager, 100000, code)
    with pytest.raises(BusinessRuleError, match="先款后货"):
        deliver(customer, manager, 200000, f"{contract.number}/2")


@time_machine.travel(at(2026, 2, 10))
def test_a_credit_transaction_over_the_limit_needs_finance(manager, head, finance):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("100000")
    )
    deliver(customer, manager, 80000)
    with pytest.raises(BusinessRuleError, match="over the credit limit"):
        deliver(customer, manager, 30000)
    assert Transaction.objects.filter(customer=customer).count() == 1
    with pytest.raises(PermissionDenied):
        services.credit_override_grant(
            customer=customer, granted_by=head, max_amount=Decimal("30000"), reason="x"
        )
    services.credit_override_grant(
        customer=customer, granted_by=finance, max_amount=Decimal("30000"), reason="年底备货"
    )
    deliver(customer, manager, 30000)
    with pytest.raises(BusinessRuleError, match="over the credit limit"):
        deliver(customer, manager, 1000)  # the override was for one transaction


@time_machine.travel(at(2026, 2, 10))
def test_a_paid_transaction_does_not_count_against_the_limit(manager):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("100000")
    )
    accounts_services.transaction_add(
        customer=customer,
        added_by=manager,
        date=D(2026, 2, 1),
        amount=Decimal("500000"),
        paid_date=D(2026, 2, 1),
    )
    deliver(customer, manager, 90000)


@time_machine.travel(at(2026, 2, 10))
def test_a_contract_over_the_credit_limit_gets_a_finance_step(manager, head, finance):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("600000")
    )
    first = draft_contract(owner=manager, customer=customer, amount="500000")
    services.contract_submit(contract=first, submitted_by=manager)
    assert [s.decider_role for s in first.steps.all()] == [DeciderRole.DEPARTMENT_HEAD]
    approve_all(first, head)
    second = draft_contract(owner=manager, customer=customer, amount="200000")
    services.contract_submit(contract=second, submitted_by=manager)
    roles = [s.decider_role for s in second.steps.order_by("order")]
    assert roles == [DeciderRole.DEPARTMENT_HEAD, DeciderRole.FINANCE]
    approve_all(second, head)
    assert second.status == ContractStatus.PENDING  # refused until finance approves
    assert current_step(second).decider_role == DeciderRole.FINANCE
    approve_all(second, finance)
    assert second.status == ContractStatus.APPROVED


@time_machine.travel(at(2026, 2, 10))
def test_a_large_contract_over_the_limit_has_one_finance_step(manager, head):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("100000")
    )
    contract = draft_contract(owner=manager, customer=customer, amount="1500000")
    services.contract_submit(contract=contract, submitted_by=manager)
    roles = [s.decider_role for s in contract.steps.order_by("order")]
    assert roles == [DeciderRole.DEPARTMENT_HEAD, DeciderRole.FINANCE]


@time_machine.travel(at(2026, 2, 10))
def test_a_prepaid_customer_is_never_asked_for_a_credit_step(manager):
    customer = admitted_customer(manager=manager, credit_terms=CreditTerms.PREPAID)
    contract = draft_contract(owner=manager, customer=customer, amount="500000")
    services.contract_submit(contract=contract, submitted_by=manager)
    assert [s.decider_role for s in contract.steps.all()] == [DeciderRole.DEPARTMENT_HEAD]
