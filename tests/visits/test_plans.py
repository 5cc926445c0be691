"""Schedule generation across tiers, tier changes, moves, cancellations and handovers."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import BusinessRuleError
from accounts.models import AdmissionDecision, AdmissionRequest, Customer, CustomerStatus
from accounts.services import manager_handover
from tests.factories import CustomerFactory
from tiers.models import TierPolicy
from visits.models import PlannedVisit, VisitStatus
from visits.services import planned_visit_cancel, planned_visit_move, visit_plan_regenerate

from .factories import active_customer, at

DAY = date(2026, 1, 10)


def open_plan(customer) -> PlannedVisit:
    return PlannedVisit.objects.get(customer=customer, status=VisitStatus.PLANNED)


@pytest.fixture
def frozen():
    with time_machine.travel(at(DAY), tick=False):
        yield


def test_it_plans_each_tier_by_its_interval(frozen, manager):
    customers = {tier: active_customer(manager, tier=tier) for tier in ["A", "B", "C", "D", ""]}
    prospect = CustomerFactory(department=manager.department, primary_manager=manager)

    result = visit_plan_regenerate()

    assert result["created"] == 5
    assert open_plan(customers["A"]).due_date == date(2026, 2, 9)  # +30
    assert open_plan(customers["B"]).due_date == date(2026, 3, 11)  # +60
    assert open_plan(customers["C"]).due_date == date(2026, 4, 10)  # +90
    assert open_plan(customers["D"]).due_date == date(2026, 7, 9)  # +180
    assert open_plan(customers[""]).due_date == date(2026, 7, 9)  # ungraded: like D
    assert open_plan(customers["A"]).assigned_to == manager
    assert not PlannedVisit.objects.filter(customer=prospect).exists()


def test_it_is_idempotent(frozen, manager):
    active_customer(manager, tier="A")
    active_customer(manager, tier="B")
    visit_plan_regenerate()

    again = visit_plan_regenerate()

    assert again == {"created": 0, "updated": 0, "cancelled": 0}
    assert PlannedVisit.objects.count() == 2


def test_the_database_refuses_a_second_open_plan(frozen, manager):
    customer = active_customer(manager)
    visit_plan_regenerate()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlannedVisit.objects.create(customer=customer, due_date=DAY)


def test_it_counts_from_the_admission_when_there_is_no_visit(frozen, manager, head):
    customer = active_customer(manager, tier="A")
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=100))
    AdmissionRequest.objects.create(
        customer=customer,
        submitted_by=manager,
        decision=AdmissionDecision.APPROVED,
        decided_by=head,
        decided_at=at(date(2026, 1, 5)),
    )
    visit_plan_regenerate()
    assert open_plan(customer).due_date == date(2026, 2, 4)


def test_a_tier_change_moves_the_computed_date(frozen, manager):
    customer = active_customer(manager, tier="A")
    visit_plan_regenerate()
    Customer.objects.filter(pk=customer.pk).update(tier="C")

    result = visit_plan_regenerate(customer_ids=[customer.pk])

    assert result["updated"] == 1
    assert open_plan(customer).due_date == date(2026, 4, 10)


def test_an_edited_tier_policy_applies_on_regeneration(frozen, manager):
    customer = active_customer(manager, tier="B")
    visit_plan_regenerate()
    TierPolicy.objects.filter(tier="B").update(visit_interval_days=45)
    visit_plan_regenerate()
    assert open_plan(customer).due_date == date(2026, 2, 24)


def test_a_moved_visit_keeps_its_date_through_regeneration(frozen, manager):
    customer = active_customer(manager, tier="A")
    visit_plan_regenerate()
    visit = open_plan(customer)

    successor = planned_visit_move(
        visit=visit, new_date=date(2026, 2, 20), reason="客户出差", moved_by=manager
    )
    Customer.objects.filter(pk=customer.pk).update(tier="B")
    visit_plan_regenerate(customer_ids=[customer.pk])

    visit.refresh_from_db()
    assert visit.status == VisitStatus.MOVED and visit.reason == "客户出差"
    assert visit.closed_by == manager
    assert open_plan(customer) == successor
    assert successor.due_date == date(2026, 2, 20) and successor.moved_from == visit


def test_a_move_needs_a_reason_and_a_future_date(frozen, manager):
    customer = active_customer(manager)
    visit_plan_regenerate()
    visit = open_plan(customer)
    with pytest.raises(BusinessRuleError):
        planned_visit_move(visit=visit, new_date=date(2026, 2, 20), reason=" ", moved_by=manager)
    with pytest.raises(BusinessRuleError):
        planned_visit_move(visit=visit, new_date=date(2026, 1, 1), reason="x", moved_by=manager)
    assert open_plan(customer) == visit


def test_only_those_in_charge_change_a_plan(frozen, manager, manager2, head):
    customer = active_customer(manager)
    visit_plan_regenerate()
    visit = open_plan(customer)
    with pytest.raises(PermissionDenied):
        planned_visit_cancel(visit=visit, reason="x", cancelled_by=manager2)
    planned_visit_move(visit=visit, new_date=date(2026, 3, 1), reason="x", moved_by=head)


def test_a_cancelled_visit_skips_its_cycle(frozen, manager):
    customer = active_customer(manager, tier="A")
    visit_plan_regenerate()
    visit = open_plan(customer)  # due 2026-02-09

    planned_visit_cancel(visit=visit, reason="客户要求取消", cancelled_by=manager)

    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED and visit.reason == "客户要求取消"
    assert open_plan(customer).due_date == date(2026, 3, 11)
    with pytest.raises(BusinessRuleError):
        planned_visit_cancel(visit=visit, reason="again", cancelled_by=manager)


def test_customers_no_longer_active_lose_their_open_plan(frozen, manager):
    customer = active_customer(manager)
    visit_plan_regenerate()
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.DORMANT)

    assert visit_plan_regenerate()["cancelled"] == 1
    assert not PlannedVisit.objects.open().filter(customer=customer).exists()


def test_the_assignee_follows_the_primary_manager(frozen, manager, manager2):
    customer = active_customer(manager)
    visit_plan_regenerate()
    Customer.objects.filter(pk=customer.pk).update(primary_manager=manager2)
    visit_plan_regenerate(customer_ids=[customer.pk])
    assert open_plan(customer).assigned_to == manager2


def test_a_handover_moves_open_visits_to_the_successor(frozen, manager, manager2, head):
    customer = active_customer(manager)
    other = active_customer(manager2)
    visit_plan_regenerate()

    manager_handover(from_user=manager, to_user=manager2, performed_by=head, reason="离职")

    assert open_plan(customer).assigned_to == manager2
    assert open_plan(other).assigned_to == manager2


def test_a_tier_change_hook_regenerates_after_commit(
    frozen, manager, django_capture_on_commit_callbacks
):
    from visits.services import visit_plans_refresh_after_commit

    customer = active_customer(manager, tier="A")
    visit_plan_regenerate()
    Customer.objects.filter(pk=customer.pk).update(tier="B")
    with django_capture_on_commit_callbacks(execute=True):
        visit_plans_refresh_after_commit(customer_ids=[customer.pk, customer.pk])
    assert open_plan(customer).due_date == date(2026, 3, 11)
