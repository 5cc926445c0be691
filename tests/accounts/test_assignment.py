"""Changing a customer's primary, assistant or chief manager, with who, when and why."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.errors import BusinessRuleError
from accounts.models import AssignmentChange, CustomerStatus, ManagerRole
from notifications.models import Notification
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import assert_in_page, zh


@pytest.fixture
def customer(manager, head):
    return CustomerFactory(
        department=manager.department, primary_manager=manager, status=CustomerStatus.ACTIVE
    )


def assign(customer, role, user, by, reason="客户要求更换"):
    return services.customer_assign_manager(
        customer=customer, role=role, user=user, assigned_by=by, reason=reason
    )


def test_the_head_names_an_assistant(customer, head, manager2):
    change = assign(customer, ManagerRole.ASSISTANT, manager2, head)
    customer.refresh_from_db()
    assert customer.assistant_manager == manager2
    assert (change.role, change.old_user, change.new_user, change.changed_by, change.reason) == (
        ManagerRole.ASSISTANT,
        None,
        manager2,
        head,
        "客户要求更换",
    )
    assert Notification.objects.filter(recipient=manager2, link=customer.get_absolute_url())


def test_the_change_is_in_the_customers_history_with_its_reason(customer, head, manager2):
    assign(customer, ManagerRole.PRIMARY, manager2, head, reason="区域调整")
    latest = customer.history.first()
    assert latest.primary_manager_id == manager2.pk
    assert latest.history_change_reason == "区域调整"


def test_the_managers_tab_shows_the_change(client_for, customer, head, manager2):
    assign(customer, ManagerRole.PRIMARY, manager2, head, reason="区域调整")
    response = client_for(head).get(customer.get_absolute_url(), {"tab": "managers"})
    assert [c.new_user for c in response.context["assignment_changes"]] == [manager2]
    assert_in_page(response, "区域调整")
    assert_in_page(response, str(manager2))


def test_the_page_assigns_and_returns_to_the_managers_tab(client_for, customer, head, manager2):
    response = client_for(head).post(
        reverse("accounts:customer_assign", args=[customer.pk]),
        {"role": "assistant_manager", "user": manager2.pk, "reason": "增派"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{customer.get_absolute_url()}?tab=managers"
    customer.refresh_from_db()
    assert customer.assistant_manager == manager2


def test_a_reason_is_required(customer, head, manager2):
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.ASSISTANT, manager2, head, reason=" ")
    assert not AssignmentChange.objects.exists()


def test_an_inactive_user_cannot_take_a_customer(customer, head, manager2):
    manager2.is_active = False
    manager2.save()
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.ASSISTANT, manager2, head)
    customer.refresh_from_db()
    assert customer.assistant_manager is None


def test_a_head_cannot_assign_across_departments(customer, head, other_manager):
    with pytest.raises(BusinessRuleError) as caught:
        assign(customer, ManagerRole.ASSISTANT, other_manager, head)
    assert caught.value.message == zh(
        "%(user)s belongs to another department; only an admin can assign across departments.",
        user=other_manager,
    )


def test_an_admin_may_assign_across_departments(customer, admin_user, other_manager):
    assign(customer, ManagerRole.ASSISTANT, other_manager, admin_user)
    customer.refresh_from_db()
    assert customer.assistant_manager == other_manager


def test_the_same_person_cannot_hold_both_seats(customer, head, manager):
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.ASSISTANT, manager, head)


def test_assigning_the_current_manager_changes_nothing(customer, head, manager):
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.PRIMARY, manager, head)
    assert not AssignmentChange.objects.exists()


def test_an_admitted_customer_keeps_a_primary_manager(customer, head):
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.PRIMARY, None, head)


def test_the_assistant_seat_can_be_cleared(customer, head, manager2):
    assign(customer, ManagerRole.ASSISTANT, manager2, head)
    change = assign(customer, ManagerRole.ASSISTANT, None, head, reason="精简")
    customer.refresh_from_db()
    assert customer.assistant_manager is None
    assert (change.old_user, change.new_user) == (manager2, None)


def test_the_chief_manager_must_be_an_executive(customer, head, manager2, executive):
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.CHIEF, manager2, head)
    assign(customer, ManagerRole.CHIEF, executive, head)
    customer.refresh_from_db()
    assert customer.chief_manager == executive


def test_a_user_without_a_managing_role_is_refused(customer, head, east):
    clerk = UserFactory(department=east)
    with pytest.raises(BusinessRuleError):
        assign(customer, ManagerRole.ASSISTANT, clerk, head)


@pytest.mark.parametrize("role", ["manager", "finance", "executive"])
def test_roles_without_the_right_are_refused(request, customer, manager2, role):
    with pytest.raises(PermissionDenied):
        assign(customer, ManagerRole.ASSISTANT, manager2, request.getfixturevalue(role))


def test_a_terminated_customer_cannot_be_reassigned(client_for, customer, head, manager2):
    services.customer_terminate(customer=customer, terminated_by=head, reason="停止合作")
    response = client_for(head).post(
        reverse("accounts:customer_assign", args=[customer.pk]),
        {"role": "assistant_manager", "user": manager2.pk, "reason": "x"},
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.assistant_manager is None


def test_the_page_offers_only_the_departments_staff_and_executives(
    client_for, customer, head, manager2, other_manager, executive
):
    response = client_for(head).get(reverse("accounts:customer_assign", args=[customer.pk]))
    offered = set(response.context["form"].fields["user"].queryset)
    assert {manager2, executive} <= offered
    assert other_manager not in offered


def test_terminating_keeps_the_customer_and_its_history(customer, head):
    services.customer_terminate(customer=customer, terminated_by=head, reason="停止合作")
    customer.refresh_from_db()
    assert (customer.status, customer.terminated_reason) == (
        CustomerStatus.TERMINATED,
        "停止合作",
    )
    assert customer.history.first().history_change_reason == "停止合作"
    # Once terminated, nobody may terminate (or edit) it again.
    with pytest.raises(PermissionDenied):
        services.customer_terminate(customer=customer, terminated_by=head, reason="再次")
