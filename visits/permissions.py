"""Who may do what with visits, care, feedback and archive checks."""

from __future__ import annotations

from accounts.permissions import (
    heads_department,
    is_account_manager,
    is_admin,
    is_department_head,
    is_executive,
    manages_customer,
)


def can_record_visit(user, customer) -> bool:
    """The customer's managers (and its chief manager), the department's head, admins."""
    if customer.is_terminated or not user.is_active:
        return False
    return (
        is_admin(user)
        or manages_customer(user, customer)
        or user.pk == customer.chief_manager_id
        or heads_department(user, customer.department_id)
    )


def can_change_plan(user, visit) -> bool:
    """Move or cancel a planned visit: its assignee, the customer's managers, the head."""
    customer = visit.customer
    return (
        is_admin(user)
        or user.pk == visit.assigned_to_id
        or manages_customer(user, customer)
        or heads_department(user, customer.department_id)
    )


def can_keep_care(user, customer) -> bool:
    return can_record_visit(user, customer)


def can_file_feedback(user, customer) -> bool:
    return can_record_visit(user, customer)


def can_verify_archive(user, customer) -> bool:
    return can_record_visit(user, customer)


def sees_department_plans(user) -> bool:
    return is_department_head(user) or is_admin(user) or is_executive(user)


def is_visiting_staff(user) -> bool:
    return is_account_manager(user) or is_department_head(user) or is_executive(user)
