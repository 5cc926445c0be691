"""Who may do what with scoring models, grading runs, grades, assessments and appeals."""

from __future__ import annotations

from accounts.permissions import (
    heads_department,
    is_admin,
    is_department_head,
    is_executive,
    manages_customer,
    role_names,
)


def can_see_runs(user) -> bool:
    """The runs are the company's: every role sees them (grades filtered), a user without one
    does not."""
    return is_admin(user) or bool(role_names(user))


def can_compute(user) -> bool:
    """Start a (re)computation by hand; the quarterly job needs no user."""
    return is_admin(user) or is_executive(user)


def can_start_review(user) -> bool:
    return is_admin(user) or is_executive(user)


def can_publish(user) -> bool:
    return is_admin(user) or is_executive(user)


def can_manage_models(user) -> bool:
    return is_admin(user)


def can_override(user, customer) -> bool:
    """The head of the customer's department reviews and may override its grade."""
    return heads_department(user, customer.department_id)


def can_review_any(user) -> bool:
    return is_admin(user) or is_executive(user) or is_department_head(user)


def can_assess(user, customer) -> bool:
    return not customer.is_terminated and (
        manages_customer(user, customer) or heads_department(user, customer.department_id)
    )


def can_appeal(user, customer) -> bool:
    return manages_customer(user, customer)


def can_decide_appeal(user, customer) -> bool:
    return is_admin(user) or is_executive(user) or heads_department(user, customer.department_id)
