"""Every change to a customer's archive, status or managers goes through these functions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify

from . import permissions
from .errors import BusinessRuleError
from .models import (
    REQUIRED_DOCUMENTS,
    AdmissionDecision,
    AdmissionRequest,
    AssignmentChange,
    Contact,
    Customer,
    CustomerStatus,
    CustomerType,
    Handover,
    ManagerRole,
    QualificationDocument,
    Transaction,
    User,
)


def _require(allowed: bool) -> None:
    permissions.require(allowed)


# --- Archive -------------------------------------------------------------------------------


def customer_create(*, created_by: User, **fields) -> Customer:
    """Create a prospect. Managers become its primary manager unless one is given."""
    _require(permissions.can_create_customer(created_by))
    customer = Customer(created_by=created_by, status=CustomerStatus.PROSPECT, **fields)
    if customer.primary_manager_id is None and permissions.is_account_manager(created_by):
        customer.primary_manager = created_by
    customer.full_clean()
    with transaction.atomic():
        customer.save()
        for role in ManagerRole:
            user = getattr(customer, role.value)
            if user is not None:
                AssignmentChange.objects.create(
                    customer=customer,
                    role=role,
                    new_user=user,
                    changed_by=created_by,
                    reason=_("Customer created"),
                )
    return customer


def customer_update(*, customer: Customer, updated_by: User, **fields) -> Customer:
    """Change archive fields. Managers, status, tier and score have their own services."""
    _require(permissions.can_edit_customer(updated_by, customer))
    protected = {"status", "tier", "score", *[role.value for role in ManagerRole]}
    if protected & fields.keys():
        raise BusinessRuleError(_("These fields cannot be changed here."))
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean()
    customer.save()
    return customer


def contact_add(*, customer: Customer, added_by: User, **fields) -> Contact:
    _require(permissions.can_edit_customer(added_by, customer))
    contact = Contact(customer=customer, **fields)
    contact.full_clean()
    with transaction.atomic():
        if contact.is_primary:
            customer.contacts.filter(is_primary=True).update(is_primary=False)
        contact.save()
    return contact


def contact_update(*, contact: Contact, updated_by: User, **fields) -> Contact:
    _require(permissions.can_edit_customer(updated_by, contact.customer))
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean()
    with transaction.atomic():
        if contact.is_primary:
            contact.customer.contacts.filter(is_primary=True).exclude(pk=contact.pk).update(
                is_primary=False
            )
        contact.save()
    return contact


def transaction_add(*, customer: Customer, added_by: User, **fields) -> Transaction:
    _require(permissions.can_edit_customer(added_by, customer))
    record = Transaction(customer=customer, created_by=added_by, **fields)
    record.full_clean()
    record.save()
    return record


def document_add(*, customer: Customer, uploaded_by: User, kind: str, **fields):
    """Upload a qualification document; it replaces the current one of the same kind."""
    _require(permissions.can_edit_customer(uploaded_by, customer))
    document = QualificationDocument(
        customer=customer, kind=kind, uploaded_by=uploaded_by, **fields
    )
    document.full_clean()
    with transaction.atomic():
        customer.documents.filter(kind=kind, is_current=True).update(is_current=False)
        document.save()
    return document


def document_verify(*, document: QualificationDocument, verified_by: User):
    _require(permissions.can_verify_documents(verified_by, document.customer))
    updated = QualificationDocument.objects.filter(pk=document.pk, verified_by__isnull=True).update(
        verified_by=verified_by, verified_at=timezone.now()
    )
    if not updated:
        raise BusinessRuleError(_("This document has already been verified."))
    document.refresh_from_db()
    return document


def missing_documents(customer: Customer, *, on=None) -> list[str]:
    """Return the document kinds still missing (or expired) from the admission checklist."""
    day = on or timezone.localdate()
    present = {
        document.kind
        for document in customer.documents.filter(is_current=True)
        if document.is_valid_on(day)
    }
    return [kind for kind in REQUIRED_DOCUMENTS[customer.customer_type] if kind not in present]


# --- Admission (准入审批) --------------------------------------------------------------------


def admission_submit(*, customer: Customer, submitted_by: User) -> AdmissionRequest:
    """Submit a prospect for admission; its qualification checklist must be complete."""
    _require(permissions.can_submit_admission(submitted_by, customer))
    if customer.status != CustomerStatus.PROSPECT:
        raise BusinessRuleError(_("Only a prospect can be submitted for admission."))
    if customer.customer_type != CustomerType.INDIVIDUAL and not customer.credit_code:
        raise BusinessRuleError(_("Enter the unified social credit code before submitting."))
    if customer.primary_manager_id is None:
        raise BusinessRuleError(_("Assign a primary manager before submitting."))
    missing = missing_documents(customer)
    if missing:
        labels = [str(QualificationDocument(kind=kind).get_kind_display()) for kind in missing]
        raise BusinessRuleError(
            _("The qualification checklist is incomplete: %(missing)s.")
            % {"missing": ", ".join(labels)}
        )
    with transaction.atomic():
        moved = Customer.objects.filter(pk=customer.pk, status=CustomerStatus.PROSPECT).update(
            status=CustomerStatus.PENDING_ADMISSION, updated_at=timezone.now()
        )
        if moved != 1:
            raise BusinessRuleError(_("This customer has already been submitted."))
        request = AdmissionRequest.objects.create(customer=customer, submitted_by=submitted_by)
        head = customer.department.head
        if head is not None:
            notify(
                recipient=head,
                message=_("%(customer)s awaits your admission decision.")
                % {"customer": customer.name},
                link=customer.get_absolute_url(),
            )
    customer.refresh_from_db()
    return request


def admission_decide(
    *, admission: AdmissionRequest, decided_by: User, approve: bool, comment: str = ""
) -> AdmissionRequest:
    """Approve (the customer becomes active) or reject (back to prospect) exactly once."""
    customer = admission.customer
    _require(permissions.can_decide_admission(decided_by, customer))
    comment = comment.strip()
    if not approve and not comment:
        raise BusinessRuleError(_("Give a reason for the rejection."))
    if approve and missing_documents(customer):
        raise BusinessRuleError(_("The qualification checklist is no longer complete."))
    decision = AdmissionDecision.APPROVED if approve else AdmissionDecision.REJECTED
    new_status = CustomerStatus.ACTIVE if approve else CustomerStatus.PROSPECT
    now = timezone.now()
    with transaction.atomic():
        claimed = AdmissionRequest.objects.filter(
            pk=admission.pk, decision=AdmissionDecision.PENDING
        ).update(decision=decision, decided_by=decided_by, decided_at=now, comment=comment)
        if claimed != 1:
            raise BusinessRuleError(_("This admission request has already been decided."))
        Customer.objects.filter(pk=customer.pk, status=CustomerStatus.PENDING_ADMISSION).update(
            status=new_status, updated_at=now
        )
        customer.refresh_from_db()
        # Keep the customer's history complete: the update() above bypasses save().
        customer._change_reason = _("Admission approved") if approve else _("Admission rejected")
        customer.save(update_fields=["updated_at"])
        if approve:
            message = _("%(customer)s was admitted as a key account.")
        else:
            message = _("Admission of %(customer)s was rejected: %(comment)s")
        for recipient in {admission.submitted_by, customer.primary_manager} - {None}:
            notify(
                recipient=recipient,
                message=message % {"customer": customer.name, "comment": comment},
                link=customer.get_absolute_url(),
            )
    admission.refresh_from_db()
    return admission


# --- Status ----------------------------------------------------------------------------------


def customer_terminate(*, customer: Customer, terminated_by: User, reason: str) -> Customer:
    """End the relationship; the customer and all its history stay."""
    _require(permissions.can_terminate(terminated_by, customer))
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the termination."))
    with transaction.atomic():
        moved = (
            Customer.objects.filter(pk=customer.pk)
            .exclude(status=CustomerStatus.TERMINATED)
            .update(status=CustomerStatus.TERMINATED, terminated_reason=reason.strip())
        )
        if moved != 1:
            raise BusinessRuleError(_("This customer is already terminated."))
        customer.refresh_from_db()
        customer._change_reason = reason.strip()
        customer.save(update_fields=["updated_at"])
    return customer


def customer_set_dormant(*, customer: Customer, changed_by: User, dormant: bool) -> Customer:
    """Mark an active customer dormant, or wake a dormant one."""
    _require(permissions.can_edit_customer(changed_by, customer))
    old, new = (
        (CustomerStatus.ACTIVE, CustomerStatus.DORMANT)
        if dormant
        else (CustomerStatus.DORMANT, CustomerStatus.ACTIVE)
    )
    with transaction.atomic():
        if Customer.objects.filter(pk=customer.pk, status=old).update(status=new) != 1:
            raise BusinessRuleError(_("The customer's status has changed; reload the page."))
        customer.refresh_from_db()
        customer.save(update_fields=["updated_at"])
    return customer


# --- Managers (主辅制) ------------------------------------------------------------------------


def _check_assignee(*, customer: Customer, role: str, user: User | None, actor: User) -> None:
    if user is None:
        if role == ManagerRole.PRIMARY and customer.status != CustomerStatus.PROSPECT:
            raise BusinessRuleError(_("An admitted customer must keep a primary manager."))
        return
    if not user.is_active:
        raise BusinessRuleError(
            _("%(user)s is inactive and cannot take customers.") % {"user": user}
        )
    if role == ManagerRole.CHIEF:
        if not permissions.is_executive(user):
            raise BusinessRuleError(_("The chief manager must be an executive."))
        return
    if not (permissions.is_account_manager(user) or permissions.is_department_head(user)):
        raise BusinessRuleError(_("%(user)s is not an account manager.") % {"user": user})
    if user.department_id != customer.department_id and not permissions.is_admin(actor):
        raise BusinessRuleError(
            _(
                "%(user)s belongs to another department; "
                "only an admin can assign across departments."
            )
            % {"user": user}
        )
    other_role = ManagerRole.ASSISTANT if role == ManagerRole.PRIMARY else ManagerRole.PRIMARY
    if getattr(customer, f"{other_role.value}_id") == user.pk:
        raise BusinessRuleError(
            _("The primary and assistant manager must be two different people.")
        )


def customer_assign_manager(
    *, customer: Customer, role: str, user: User | None, assigned_by: User, reason: str
) -> AssignmentChange:
    """Change one of a customer's managers, recording who, when and why."""
    _require(permissions.can_assign_managers(assigned_by, customer))
    role = ManagerRole(role)
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the change."))
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        old_user = getattr(customer, role.value)
        if (old_user.pk if old_user else None) == (user.pk if user else None):
            raise BusinessRuleError(_("Nothing to change: that is already the manager."))
        _check_assignee(customer=customer, role=role, user=user, actor=assigned_by)
        setattr(customer, role.value, user)
        customer._change_reason = reason.strip()
        customer.save()
        change = AssignmentChange.objects.create(
            customer=customer,
            role=role,
            old_user=old_user,
            new_user=user,
            changed_by=assigned_by,
            reason=reason.strip(),
        )
        if user is not None:
            notify(
                recipient=user,
                message=_("You are now %(role)s of %(customer)s.")
                % {"role": role.label, "customer": customer.name},
                link=customer.get_absolute_url(),
            )
    return change


def manager_handover(
    *, from_user: User, to_user: User, performed_by: User, reason: str
) -> Handover:
    """Move all of a manager's customers (and their open work) to a successor, atomically."""
    _require(permissions.can_handover(performed_by, from_user))
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the handover."))
    if from_user.pk == to_user.pk:
        raise BusinessRuleError(_("Choose a different successor."))
    if not to_user.is_active:
        raise BusinessRuleError(
            _("%(user)s is inactive and cannot take customers.") % {"user": to_user}
        )
    if not (permissions.is_account_manager(to_user) or permissions.is_department_head(to_user)):
        raise BusinessRuleError(_("%(user)s is not an account manager.") % {"user": to_user})
    if to_user.department_id != from_user.department_id and not (
        permissions.is_admin(performed_by)
        or permissions.heads_department(performed_by, to_user.department_id)
    ):
        raise BusinessRuleError(
            _("A handover to another department needs the head of that department or an admin.")
        )
    with transaction.atomic():
        handover = Handover.objects.create(
            from_user=from_user, to_user=to_user, performed_by=performed_by, reason=reason.strip()
        )
        # Terminated customers keep their last managers on record.
        customers = (
            Customer.objects.select_for_update()
            .managed_by(from_user)
            .exclude(status=CustomerStatus.TERMINATED)
            .order_by("pk")
        )
        changes = []
        for customer in customers:
            for role in (ManagerRole.PRIMARY, ManagerRole.ASSISTANT):
                if getattr(customer, f"{role.value}_id") != from_user.pk:
                    continue
                other = (
                    ManagerRole.ASSISTANT if role == ManagerRole.PRIMARY else ManagerRole.PRIMARY
                )
                # The successor may already be the other manager: then this seat empties.
                new_user = None if getattr(customer, f"{other.value}_id") == to_user.pk else to_user
                if role == ManagerRole.PRIMARY and new_user is None:
                    # The assistant is promoted; the assistant seat empties.
                    customer.assistant_manager = None
                    new_user = to_user
                    changes.append(
                        AssignmentChange(
                            customer=customer,
                            role=ManagerRole.ASSISTANT,
                            old_user=to_user,
                            new_user=None,
                            changed_by=performed_by,
                            reason=reason.strip(),
                            handover=handover,
                        )
                    )
                setattr(customer, role.value, new_user)
                changes.append(
                    AssignmentChange(
                        customer=customer,
                        role=role,
                        old_user=from_user,
                        new_user=new_user,
                        changed_by=performed_by,
                        reason=reason.strip(),
                        handover=handover,
                    )
                )
            customer._change_reason = _("Handover")
            customer.save()
        AssignmentChange.objects.bulk_create(changes)
        _move_open_work(handover)
        count = len({change.customer_id for change in changes})
        notify(
            recipient=to_user,
            message=_("%(count)d customers were handed over to you from %(user)s.")
            % {"count": count, "user": from_user},
            link=handover.get_absolute_url(),
        )
    return handover


def _move_open_work(handover: Handover) -> None:
    """Move the open visits, complaints and draft contracts of the handed-over customers.

    Each app that keeps open work assigned to a person adds its own service call here.
    """
