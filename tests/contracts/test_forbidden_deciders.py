"""Each person not entitled to a step is refused, and a decided step stays decided."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from contracts import services
from contracts.models import StepStatus
from contracts.services import StepAlreadyDecided

from .factories import admitted_customer, approve_all, current_step, submitted_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(manager, head, finance, executive):
    customer = admitted_customer(manager=manager, tier="A")
    return submitted_contract(owner=manager, customer=customer, amount="6000000.00")


def _refused(step, user, error=PermissionDenied):
    with pytest.raises(error):
        services.step_decide(step=step, decided_by=user, approve=True)
    step.refresh_from_db()
    assert step.decided_by is None


def test_the_owner_is_refused(contract, manager):
    _refused(current_step(contract), manager)


def test_the_owner_is_refused_even_holding_the_role(contract, manager, finance, head):
    from django.contrib.auth.models import Group

    manager.groups.add(Group.objects.get(name="finance"))
    approve_all(contract, head)
    manager = type(manager).objects.get(pk=manager.pk)  # drop the cached roles
    _refused(current_step(contract), manager)


def test_a_head_of_another_department_is_refused(contract, other_head):
    _refused(current_step(contract), other_head)


def test_another_manager_is_refused(contract, manager2, other_manager, outsider):
    for user in (manager2, other_manager, outsider):
        _refused(current_step(contract), user)


def test_finance_is_refused_on_the_heads_step(contract, finance):
    _refused(current_step(contract), finance)


def test_an_executive_is_refused_on_the_heads_step(contract, executive):
    _refused(current_step(contract), executive)


def test_admin_without_a_role_is_refused(contract, admin_user):
    _refused(current_step(contract), admin_user)


def test_the_head_is_refused_on_the_finance_step(contract, head):
    approve_all(contract, head)
    _refused(current_step(contract), head)


def test_a_later_step_cannot_be_decided_before_its_turn(contract, executive):
    step = contract.steps.get(order=3)
    assert step.status == StepStatus.WAITING
    _refused(step, executive, StepAlreadyDecided)


def test_a_decided_step_is_final(contract, head, finance):
    step = current_step(contract)
    services.step_decide(step=step, decided_by=head, approve=True)
    with pytest.raises(StepAlreadyDecided):
        services.step_decide(step=step, decided_by=head, approve=False, comment="changed my mind")
    with pytest.raises(PermissionDenied):
        services.step_decide(step=step, decided_by=finance, approve=True)
    step.refresh_from_db()
    assert step.status == StepStatus.APPROVED and step.decided_by == head
