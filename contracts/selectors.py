"""Reads: which contracts, steps and customers a user sees in each list."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import permissions as roles
from accounts.models import Customer, CustomerStatus

from .models import ApprovalStep, Contract


def draftable_customers(user) -> QuerySet:
    """Return the admitted customers the user may draft a contract for."""
    customers = Customer.objects.filter(
        status__in=[CustomerStatus.ACTIVE, CustomerStatus.DORMANT]
    ).order_by("name")
    if roles.is_admin(user):
        return customers
    scope = Q(pk__in=[])
    if roles.is_account_manager(user) or roles.is_department_head(user):
        scope |= Q(primary_manager=user) | Q(assistant_manager=user)
    if roles.is_department_head(user):
        scope |= Q(department__in=roles.headed_department_ids(user))
    return customers.filter(scope)


def steps_waiting_for(user) -> QuerySet:
    """Return the current steps the user may decide, oldest submission first."""
    return (
        ApprovalStep.objects.waiting_for(user)
        .select_related("contract", "contract__customer", "contract__owner", "round")
        .order_by("round__submitted_at", "pk")
    )


def contracts_for_scope(user, scope: str) -> QuerySet:
    """Return the contracts of one list: mine, waiting (for my decision), department or all."""
    visible = Contract.objects.visible_to(user)
    if scope == "waiting":
        return visible.filter(pk__in=ApprovalStep.objects.waiting_for(user).values("contract"))
    if scope == "department":
        return visible.filter(department__in=roles.headed_department_ids(user))
    if scope == "all":
        return visible
    return visible.filter(owner=user)
