"""Who may do what with a contract. Role helpers come from accounts.permissions.

Admins configure approval rules in Django admin but do not decide approval steps unless they
also hold the step's role: an approval is a business signature by a named role holder, and
an admin account is a technical one. Nobody decides a step of a contract they own.
"""

from __future__ import annotations

from accounts.permissions import (
    heads_department,
    is_account_manager,
    is_admin,
    is_department_head,
    is_executive,
    is_finance,
    manages_customer,
)

from .models import ApprovalStep, Contract, ContractStatus, DeciderRole


def can_draft_for(user, customer) -> bool:
    """Managers draft for their customers, heads for their department's; admins for any."""
    return (
        is_admin(user)
        or (
            (is_account_manager(user) or is_department_head(user))
            and manages_customer(user, customer)
        )
        or heads_department(user, customer.department_id)
    )


def can_draft(user) -> bool:
    return is_admin(user) or is_account_manager(user) or is_department_head(user)


def owns(user, contract: Contract) -> bool:
    """The owner (or an admin) edits and submits the contract while it is a draft."""
    return contract.owner_id == user.pk or is_admin(user)


def can_edit(user, contract: Contract) -> bool:
    return contract.status == ContractStatus.DRAFT and owns(user, contract)


def holds_decider_role(user, role: str, department_id: int | None) -> bool:
    if role == DeciderRole.DEPARTMENT_HEAD:
        return heads_department(user, department_id)
    if role == DeciderRole.FINANCE:
        return is_finance(user)
    if role == DeciderRole.EXECUTIVE:
        return is_executive(user)
    return False


def can_decide(user, step: ApprovalStep) -> bool:
    """The role holder for this step, never the contract's owner (state is checked apart)."""
    return (
        user.is_authenticated
        and user.is_active
        and step.contract.owner_id != user.pk
        and holds_decider_role(user, step.decider_role, step.department_id)
    )


def can_mark_signed(user, contract: Contract) -> bool:
    return (
        contract.owner_id == user.pk
        or is_admin(user)
        or heads_department(user, contract.department_id)
    )


def can_file(user, contract: Contract) -> bool:
    """Filing (备案) is done by the department head, finance, an executive or an admin."""
    return (
        is_admin(user)
        or is_finance(user)
        or is_executive(user)
        or heads_department(user, contract.department_id)
    )


def can_terminate(user, contract: Contract) -> bool:
    return is_admin(user) or is_executive(user) or heads_department(user, contract.department_id)


def sees_department_list(user) -> bool:
    return is_department_head(user)


def sees_all_list(user) -> bool:
    return is_admin(user) or is_executive(user) or is_finance(user)


# --- Receivables ---------------------------------------------------------------------------


def can_manage_plan(user, contract: Contract) -> bool:
    """The owner, the department's head or an admin sets the payment plan."""
    return owns(user, contract) or heads_department(user, contract.department_id)


def can_record_collection(user, contract: Contract) -> bool:
    """Who hears of the money first: the owner, the customer's managers, the head, finance."""
    return (
        can_manage_plan(user, contract)
        or is_finance(user)
        or manages_customer(user, contract.customer)
    )


def can_confirm_collection(user) -> bool:
    return is_finance(user)


def sees_company_receivables(user) -> bool:
    return sees_all_list(user)


# --- Credit requests -------------------------------------------------------------------------


def can_propose_credit(user, customer) -> bool:
    """The customer's account manager, or the head of its department, proposes new terms."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        (is_account_manager(user) or is_department_head(user)) and manages_customer(user, customer)
    ) or heads_department(user, customer.department_id)


def can_decide_credit(user, credit_request) -> bool:
    """Finance decides first, then (above the policy's amount) an executive; never the
    proposer. The request's state says whose step it is."""
    from .models import CreditRequestStatus

    if not user.is_authenticated or not user.is_active:
        return False
    if credit_request.proposed_by_id == user.pk:
        return False
    if credit_request.status == CreditRequestStatus.PENDING_FINANCE:
        return is_finance(user)
    if credit_request.status == CreditRequestStatus.PENDING_EXECUTIVE:
        return is_executive(user)
    return False
