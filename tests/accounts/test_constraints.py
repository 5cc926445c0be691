"""Invariants held by the database: a path that skips full_clean() is refused all the same,
and full_clean() shows the constraint's message as a form error."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import AdmissionRequest, Customer, Transaction
from contracts.models import CreditOverride
from tests.factories import CustomerFactory, TransactionFactory
from tests.helpers import zh
from visits.models import CareExpense, PlannedVisit

SAME_PERSON = "The primary and assistant manager must be two different people."


def _refused_by_the_database(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_the_primary_manager_cannot_also_be_the_assistant_on_any_path(east, manager, manager2):
    customer = CustomerFactory(department=east, primary_manager=manager)
    customer.assistant_manager = manager
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert zh(SAME_PERSON) in error.value.messages
    _refused_by_the_database(
        lambda: Customer.objects.filter(pk=customer.pk).update(assistant_manager=manager)
    )
    assert Customer.objects.get(pk=customer.pk).assistant_manager_id is None
    # Two different people, or one seat empty, are fine.
    Customer.objects.filter(pk=customer.pk).update(assistant_manager=manager2)
    Customer.objects.filter(pk=customer.pk).update(primary_manager=None)


def test_a_negative_credit_limit_or_amount_is_refused_by_the_database(east, manager):
    customer = CustomerFactory(department=east, primary_manager=manager)
    _refused_by_the_database(
        lambda: Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("-1"))
    )
    record = TransactionFactory(customer=customer)
    _refused_by_the_database(
        lambda: Transaction.objects.filter(pk=record.pk).update(amount=Decimal("-5"))
    )
    record.due_date = record.date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        record.full_clean()
    assert zh("The due date cannot be before the date.") in error.value.messages


def test_a_second_pending_admission_request_is_refused_with_its_message(east, manager):
    customer = CustomerFactory(department=east, primary_manager=manager)
    AdmissionRequest.objects.create(customer=customer, submitted_by=manager)
    second = AdmissionRequest(customer=customer, submitted_by=manager)
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert zh("This customer already has a pending admission request.") in error.value.messages
    _refused_by_the_database(lambda: second.save())
    assert AdmissionRequest.objects.filter(customer=customer).count() == 1


def test_a_second_open_planned_visit_is_refused_with_its_message(east, manager):
    customer = CustomerFactory(department=east, primary_manager=manager)
    due = datetime.date(2026, 11, 1)
    PlannedVisit.objects.create(customer=customer, due_date=due, assigned_to=manager)
    second = PlannedVisit(customer=customer, due_date=due, assigned_to=manager)
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert zh("This customer already has an open planned visit.") in error.value.messages
    _refused_by_the_database(lambda: second.save())


def test_a_credit_override_of_nothing_and_a_negative_care_cost_are_refused(east, manager, finance):
    customer = CustomerFactory(department=east, primary_manager=manager)
    _refused_by_the_database(
        lambda: CreditOverride.objects.bulk_create(
            [CreditOverride(customer=customer, max_amount=0, reason="x", approved_by=finance)]
        )
    )
    _refused_by_the_database(
        lambda: CareExpense.objects.bulk_create(
            [
                CareExpense(
                    customer=customer,
                    date=datetime.date(2026, 9, 1),
                    kind="gift",
                    description="Mooncakes",
                    cost=Decimal("-1"),
                    recorded_by=manager,
                )
            ]
        )
    )


def test_a_round_never_has_two_steps_awaiting_a_decision(east, manager, head, executive):
    from contracts.models import ApprovalStep
    from tests.contracts.factories import admitted_customer, submitted_contract

    contract = submitted_contract(owner=manager, customer=admitted_customer(manager=manager))
    pending = contract.steps.get(status="pending")
    second = ApprovalStep(
        round=pending.round,
        contract=contract,
        order=pending.order + 10,
        name="Extra",
        decider_role=pending.decider_role,
        department=pending.department,
        status="pending",
    )
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert zh("This round already has a step awaiting a decision.") in error.value.messages
    _refused_by_the_database(lambda: second.save())
    _refused_by_the_database(
        lambda: ApprovalStep.objects.filter(pk=pending.pk).update(status="approved")
    )
    assert ApprovalStep.objects.get(pk=pending.pk).status == "pending"
