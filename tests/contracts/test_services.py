"""Drafting, numbering, submission, deciding, signing and filing through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from accounts.errors import BusinessRuleError
from contracts import services
from contracts.models import ApprovalRule, ContractStatus, StepStatus
from notifications.models import Notification
from tests.factories import CustomerFactory

from .factories import (
    admitted_customer,
    approve_all,
    current_step,
    draft_contract,
    scan,
    submitted_contract,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(manager):
    return admitted_customer(manager=manager, tier="B")


@pytest.fixture
def a_customer(manager):
    return admitted_customer(manager=manager, tier="A")


def test_default_rules_are_installed_by_the_migration():
    rules = list(ApprovalRule.objects.values_list("order", "decider_role", "over_credit_limit"))
    assert rules == [
        (1, "department_head", False),
        (2, "finance", False),
        (2, "finance", True),  # the credit-limit step
        (3, "executive", False),
    ]


@time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC))
def test_numbers_are_consecutive_per_year(manager, customer):
    first = draft_contract(owner=manager, customer=customer)
    second = draft_contract(owner=manager, customer=customer)
    assert (first.number, second.number) == ("HT-2026-0001", "HT-2026-0002")
    with time_machine.travel(datetime.datetime(2027, 1, 2, 10, tzinfo=datetime.UTC)):
        assert draft_contract(owner=manager, customer=customer).number == "HT-2027-0001"


def test_a_failed_creation_leaves_no_gap(manager, customer):
    first = draft_contract(owner=manager, customer=customer)
    with pytest.raises(ValidationError):
        draft_contract(
            owner=manager,
            customer=customer,
            start_date=datetime.date(2026, 5, 1),
            end_date=datetime.date(2026, 4, 1),
        )
    second = draft_contract(owner=manager, customer=customer)
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", Decimal("0")), ("discount_percent", Decimal("100.01")), ("amount", Decimal("-1"))],
)
def test_invalid_amounts_and_discounts_are_refused(manager, customer, field, value):
    with pytest.raises(ValidationError):
        draft_contract(owner=manager, customer=customer, **{field: value})


def test_managers_cannot_draft_for_customers_they_do_not_manage(manager, other_manager):
    customer = admitted_customer(manager=other_manager)
    with pytest.raises(PermissionDenied):
        draft_contract(owner=manager, customer=customer)


def test_prospects_get_no_contracts(manager):
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    with pytest.raises(BusinessRuleError):
        draft_contract(owner=manager, customer=customer)


def test_submission_materialises_the_steps_and_notifies_the_head(manager, head, customer):
    contract = submitted_contract(owner=manager, customer=customer, amount="1000000.00")
    assert contract.status == ContractStatus.PENDING
    steps = list(contract.steps.values_list("order", "decider_role", "status"))
    assert steps == [
        (1, "department_head", StepStatus.PENDING),
        (2, "finance", StepStatus.WAITING),
    ]
    assert Notification.objects.filter(recipient=head, message__contains=contract.number).exists()


def test_rules_changed_after_submission_do_not_alter_the_contract(
    manager, head, finance, executive, customer
):
    contract = submitted_contract(owner=manager, customer=customer, amount="1000000.00")
    ApprovalRule.objects.filter(decider_role="finance").update(is_active=False)
    ApprovalRule.objects.create(order=4, name="extra", decider_role="executive", always=True)
    approve_all(contract, head, finance)
    assert contract.status == ContractStatus.APPROVED
    assert contract.steps.count() == 2
    # A new submission reads the rules in force now.
    later = submitted_contract(owner=manager, customer=customer, amount="1000000.00")
    assert list(later.steps.values_list("decider_role", flat=True)) == [
        "department_head",
        "executive",
    ]


def test_the_full_path_for_a_large_a_tier_contract(manager, head, finance, executive, a_customer):
    contract = submitted_contract(owner=manager, customer=a_customer, amount="6000000.00")
    approve_all(contract, head, finance, executive)
    assert contract.status == ContractStatus.APPROVED
    services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED  # A tier: waits for filing (备案)
    services.contract_file(contract=contract, filed_by=finance, filing_reference="BA-1")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.filed_by == finance and contract.filed_on is not None
    reasons = [record.history_change_reason for record in contract.history.all()]
    assert reasons[0] == gettext("Filed (备案) and in force")
    assert gettext("Signed") in reasons


def test_other_tiers_take_effect_on_signing(manager, head, customer):
    contract = approve_all(submitted_contract(owner=manager, customer=customer), head)
    services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE and contract.activated_at


def test_signing_needs_an_approved_contract_and_a_scan(manager, customer):
    contract = draft_contract(owner=manager, customer=customer)
    with pytest.raises(BusinessRuleError):
        services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    with pytest.raises(BusinessRuleError):
        services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=None)


def test_rejection_returns_to_draft_and_the_round_stays_visible(manager, head, finance, customer):
    contract = submitted_contract(owner=manager, customer=customer, amount="2000000.00")
    approve_all(contract, head)
    services.step_decide(
        step=current_step(contract), decided_by=finance, approve=False, comment="折扣过高"
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    assert contract.rejection_comment == "折扣过高"
    assert Notification.objects.filter(recipient=manager, message__contains="折扣过高").exists()
    services.contract_update(contract=contract, updated_by=manager, amount=Decimal("900000"))
    services.contract_submit(contract=contract, submitted_by=manager)
    rounds = list(contract.rounds.values_list("number", "outcome", "amount"))
    assert rounds == [(1, "rejected", Decimal("2000000.00")), (2, "pending", Decimal("900000.00"))]
    assert contract.steps.filter(round__number=1).count() == 2
    assert contract.steps.filter(round__number=2).count() == 1


def test_rejection_needs_a_comment(manager, head, customer):
    contract = submitted_contract(owner=manager, customer=customer)
    with pytest.raises(BusinessRuleError):
        services.step_decide(step=current_step(contract), decided_by=head, approve=False)


def test_each_decision_notifies_owner_and_next_approver(manager, head, finance, customer):
    contract = submitted_contract(owner=manager, customer=customer, amount="1500000.00")
    approve_all(contract, head)
    assert Notification.objects.filter(
        recipient=manager, message__contains=contract.number
    ).exists()
    assert Notification.objects.filter(
        recipient=finance, message__contains=contract.number
    ).exists()


def test_a_head_owning_the_contract_is_escalated_to_an_executive(head, executive):
    customer = admitted_customer(manager=head)
    contract = submitted_contract(owner=head, customer=customer)
    step = current_step(contract)
    assert step.decider_role == "executive"
    with pytest.raises(PermissionDenied):
        services.step_decide(step=step, decided_by=head, approve=True)
    services.step_decide(step=step, decided_by=executive, approve=True)


def test_only_drafts_can_be_edited_or_submitted(manager, customer):
    contract = submitted_contract(owner=manager, customer=customer)
    with pytest.raises(BusinessRuleError):
        services.contract_update(contract=contract, updated_by=manager, title="x")
    with pytest.raises(BusinessRuleError):
        services.contract_submit(contract=contract, submitted_by=manager)


def test_only_the_owner_edits_or_submits(manager, manager2, head, customer):
    contract = draft_contract(owner=manager, customer=customer)
    for user in (manager2, head):
        with pytest.raises(PermissionDenied):
            services.contract_update(contract=contract, updated_by=user, title="x")
        with pytest.raises(PermissionDenied):
            services.contract_submit(contract=contract, submitted_by=user)


def test_handover_moves_draft_contracts_to_the_successor(manager, manager2, head, customer):
    from accounts.services import manager_handover

    draft = draft_contract(owner=manager, customer=customer)
    pending = submitted_contract(owner=manager, customer=customer)
    manager_handover(from_user=manager, to_user=manager2, performed_by=head, reason="离职")
    draft.refresh_from_db()
    pending.refresh_from_db()
    assert draft.owner == manager2
    assert pending.owner == manager


def test_terminate_needs_a_reason_and_an_active_contract(manager, head, customer):
    contract = approve_all(submitted_contract(owner=manager, customer=customer), head)
    services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    with pytest.raises(BusinessRuleError):
        services.contract_terminate(contract=contract, terminated_by=head, reason=" ")
    with pytest.raises(PermissionDenied):
        services.contract_terminate(contract=contract, terminated_by=manager, reason="x")
    services.contract_terminate(contract=contract, terminated_by=head, reason="客户违约")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
