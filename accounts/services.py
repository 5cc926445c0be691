"""Every change to a customer's archive, status or managers goes through these functions."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.jobs import chunks
from notifications.services import notifications_resolve, notify

from . import permissions
from .errors import BusinessRuleError
from .locks import lock_in_order
from .models import (
    REQUIRED_DOCUMENTS,
    AdmissionDecision,
    AdmissionRequest,
    AssignmentChange,
    AssignmentKind,
    Contact,
    Customer,
    CustomerStatus,
    CustomerType,
    Handover,
    ManagerRole,
    PoolPolicy,
    PoolReturnRule,
    PoolRuleScope,
    PoolWarning,
    QualificationDocument,
    Transaction,
    User,
)

# --- Archive -------------------------------------------------------------------------------


def customer_create(*, created_by: User, **fields) -> Customer:
    """Create a prospect. Managers become its primary manager unless one is given."""
    permissions.require(permissions.can_create_customer(created_by))
    if {"credit_terms", "credit_limit"} & fields.keys():
        # New customers start prepaid with no limit; credit comes from a credit request.
        raise BusinessRuleError(_("These fields cannot be set here."))
    customer = Customer(created_by=created_by, status=CustomerStatus.PROSPECT, **fields)
    if customer.primary_manager_id is None and permissions.is_account_manager(created_by):
        customer.primary_manager = created_by
    for role, other in (
        (ManagerRole.PRIMARY, None),
        (ManagerRole.ASSISTANT, customer.primary_manager_id),
    ):
        check_assignee(
            department_id=customer.department_id,
            role=role,
            user=getattr(customer, role.value),
            actor=created_by,
            other_user_id=other,
        )
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
                    kind=AssignmentKind.CREATED,
                )
    return customer


def customer_update(*, customer: Customer, updated_by: User, **fields) -> Customer:
    """Change archive fields. Managers, status, tier and score have their own services."""
    permissions.require(permissions.can_edit_customer(updated_by, customer))
    protected = {"status", "tier", "score", *[role.value for role in ManagerRole]}
    # Credit terms and limit change only through an approved credit request (contracts).
    protected |= {"credit_terms", "credit_limit"}
    if protected & fields.keys():
        raise BusinessRuleError(_("These fields cannot be changed here."))
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean()
    customer.save()
    return customer


def contact_add(*, customer: Customer, added_by: User, **fields) -> Contact:
    permissions.require(permissions.can_edit_customer(added_by, customer))
    contact = Contact(customer=customer, **fields)
    contact.full_clean()
    with transaction.atomic():
        if contact.is_primary:
            customer.contacts.filter(is_primary=True).update(is_primary=False)
        contact.save()
    return contact


def contact_update(*, contact: Contact, updated_by: User, **fields) -> Contact:
    permissions.require(permissions.can_edit_customer(updated_by, contact.customer))
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


def transaction_field_errors(
    *, date=None, amount=None, profit=None, due_date=None, paid_date=None
) -> list[tuple[str, str]]:
    """Return (field, message) for each way a transaction's dates and amounts contradict
    each other. The one rule for the transaction form and the Excel import."""
    errors = []
    if date and due_date and due_date < date:
        errors.append(("due_date", _("The due date cannot be before the transaction date.")))
    if date and paid_date and paid_date < date:
        errors.append(("paid_date", _("The payment date cannot be before the transaction date.")))
    if amount is not None and profit is not None and profit > amount:
        errors.append(("profit", _("The profit cannot exceed the amount.")))
    return errors


def transaction_add(*, customer: Customer, added_by: User, **fields) -> Transaction:
    permissions.require(permissions.can_edit_customer(added_by, customer))
    record = Transaction(customer=customer, created_by=added_by, **fields)
    record.full_clean()
    # Credit terms, plan facts and prepayments used (先款后货) are the contracts app's rules.
    from contracts.services import prepayment_use_record, transaction_check

    with transaction.atomic():
        transaction_check(record=record)  # refuses, or fills in due/paid dates
        record.save()
        prepayment_use_record(records=[record])
    return record


def document_add(*, customer: Customer, uploaded_by: User, kind: str, **fields):
    """Upload a qualification document; it replaces the current one of the same kind."""
    permissions.require(permissions.can_edit_customer(uploaded_by, customer))
    document = QualificationDocument(
        customer=customer, kind=kind, uploaded_by=uploaded_by, **fields
    )
    document.full_clean()
    with transaction.atomic():
        customer.documents.filter(kind=kind, is_current=True).update(is_current=False)
        document.save()
    return document


def document_verify(*, document: QualificationDocument, verified_by: User):
    """Record who verified a current qualification document, and when, once."""
    permissions.require(permissions.can_verify_documents(verified_by, document.customer))
    with transaction.atomic():
        updated = QualificationDocument.objects.filter(
            pk=document.pk, verified_by__isnull=True, is_current=True
        ).update(verified_by=verified_by, verified_at=timezone.now())
        if not updated:
            document.refresh_from_db()
            if not document.is_current:
                raise BusinessRuleError(_("This document has been replaced by a newer one."))
            raise BusinessRuleError(_("This document has already been verified."))
        document.refresh_from_db()
        # The conditional update bypasses save(); keep the document's history complete.
        document._change_reason = _("Document verified")
        document.save(update_fields=["verified_at"])
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


def unverified_documents(customer: Customer, *, on=None) -> list[QualificationDocument]:
    """Return the checklist's current, valid documents that nobody has verified yet."""
    day = on or timezone.localdate()
    required = REQUIRED_DOCUMENTS[customer.customer_type]
    return [
        document
        for document in customer.documents.filter(is_current=True, kind__in=required)
        if document.is_valid_on(day) and document.verified_by_id is None
    ]


# --- Admission (准入审批) --------------------------------------------------------------------


def admission_submit(*, customer: Customer, submitted_by: User) -> AdmissionRequest:
    """Submit a prospect for admission; its qualification checklist must be complete."""
    permissions.require(permissions.can_submit_admission(submitted_by, customer))
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
                subject=request,
            )
    customer.refresh_from_db()
    return request


def admission_decide(
    *, admission: AdmissionRequest, decided_by: User, approve: bool, comment: str = ""
) -> AdmissionRequest:
    """Approve (the customer becomes active) or reject (back to prospect) exactly once."""
    customer = admission.customer
    permissions.require(permissions.can_decide_admission(decided_by, customer))
    comment = comment.strip()
    if not approve and not comment:
        raise BusinessRuleError(_("Give a reason for the rejection."))
    decision = AdmissionDecision.APPROVED if approve else AdmissionDecision.REJECTED
    new_status = CustomerStatus.ACTIVE if approve else CustomerStatus.PROSPECT
    now = timezone.now()
    already_decided = _("This admission request has already been decided.")
    with transaction.atomic():
        lock_in_order(customers=[customer], subject=admission)  # accounts.locks
        pending = AdmissionRequest.objects.filter(
            pk=admission.pk, decision=AdmissionDecision.PENDING
        )
        # A decided request says so before its checklist is looked at again.
        if not pending.exists():
            raise BusinessRuleError(already_decided)
        if approve:
            # Inside the transaction: a refusal rolls back, and nothing is written.
            _check_checklist_verified(customer)
        claimed = pending.update(
            decision=decision, decided_by=decided_by, decided_at=now, comment=comment
        )
        if claimed != 1:
            raise BusinessRuleError(already_decided)
        notifications_resolve(subject=admission)
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


def _check_checklist_verified(customer: Customer) -> None:
    """Approval needs every required document present, valid and verified."""
    if missing_documents(customer):
        raise BusinessRuleError(_("The qualification checklist is no longer complete."))
    unverified = unverified_documents(customer)
    if unverified:
        raise BusinessRuleError(
            _(
                "These qualification documents are not verified yet: %(documents)s. "
                "Finance or the department head verifies them before the approval."
            )
            % {"documents": ", ".join(str(d.get_kind_display()) for d in unverified)}
        )


# --- Status ----------------------------------------------------------------------------------


def customer_terminate(*, customer: Customer, terminated_by: User, reason: str) -> Customer:
    """End the relationship; the customer and all its history stay."""
    permissions.require(permissions.can_terminate(terminated_by, customer))
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
    permissions.require(permissions.can_edit_customer(changed_by, customer))
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


# --- Prospect pool (潜在大客户信息库 / 公海) -------------------------------------------------


def _start_of_today():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _check_caps(*, user: User, policy: PoolPolicy, counting_claims: bool) -> None:
    owned = (
        Customer.objects.filter(primary_manager=user)
        .exclude(status=CustomerStatus.TERMINATED)
        .count()
    )
    if owned >= policy.max_customers_per_manager:
        raise BusinessRuleError(
            _("%(user)s already owns %(count)d customers, the most allowed.")
            % {"user": user, "count": owned}
        )
    if counting_claims:
        claims = AssignmentChange.objects.filter(
            changed_by=user, kind=AssignmentKind.CLAIM, changed_at__gte=_start_of_today()
        ).count()
        if claims >= policy.max_claims_per_day:
            raise BusinessRuleError(
                _("You have claimed %(count)d customers today, the most allowed per day.")
                % {"count": claims}
            )


def pool_claim(*, customer: Customer, user: User) -> AssignmentChange:
    """Take a customer from the pool; the first of simultaneous claims wins, the others are
    told that another manager has claimed it (their request may hold the customer as it was
    before, still in the pool)."""
    permissions.require(
        (permissions.is_account_manager(user) or permissions.is_department_head(user))
        and user.department_id == customer.department_id
    )
    with transaction.atomic():
        # Customer first, then the claimer (whose caps are counted): accounts.locks.
        locked, _subject = lock_in_order(customers=[customer], users=[user])
        current = locked.get(customer.pk)
        permissions.require(current is not None and not current.is_terminated)
        if current.primary_manager_id == user.pk:
            raise BusinessRuleError(_("This customer is already yours."))
        if current.primary_manager_id is not None:
            raise BusinessRuleError(_("Another manager has just claimed this customer."))
        permissions.require(permissions.can_claim(user, current))
        _check_caps(user=user, policy=PoolPolicy.current(), counting_claims=True)
        taken = (
            Customer.objects.filter(pk=customer.pk, primary_manager__isnull=True)
            .exclude(status=CustomerStatus.TERMINATED)
            .update(primary_manager=user, updated_at=timezone.now())
        )
        if taken != 1:
            raise BusinessRuleError(_("Another manager has just claimed this customer."))
        change = AssignmentChange.objects.create(
            customer=customer,
            role=ManagerRole.PRIMARY,
            kind=AssignmentKind.CLAIM,
            new_user=user,
            changed_by=user,
            reason=_("Claimed from the pool"),
        )
        customer.refresh_from_db()
        customer._change_reason = _("Claimed from the pool")
        customer.save(update_fields=["updated_at"])
    return change


def _empty_seats(customer: Customer, *, by: User, kind: str, reason: str) -> list:
    changes = []
    for role in (ManagerRole.PRIMARY, ManagerRole.ASSISTANT):
        old = getattr(customer, f"{role.value}_id")
        if old is not None:
            changes.append(
                AssignmentChange(
                    customer=customer,
                    role=role,
                    kind=kind,
                    old_user_id=old,
                    new_user=None,
                    changed_by=by,
                    reason=reason,
                )
            )
    return changes


def pool_release(*, customer: Customer, released_by: User, reason: str) -> Customer:
    """Give a customer back to the pool, with a reason; its history stays."""
    permissions.require(permissions.can_release(released_by, customer))
    reason = reason.strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for releasing the customer."))
    with transaction.atomic():
        locked, _subject = lock_in_order(customers=[customer])  # accounts.locks
        if locked[customer.pk].primary_manager_id is None:
            raise BusinessRuleError(_("This customer is already in the pool."))
        released = Customer.objects.filter(
            pk=customer.pk, primary_manager_id=customer.primary_manager_id
        ).update(primary_manager=None, assistant_manager=None, updated_at=timezone.now())
        if released != 1:
            raise BusinessRuleError(_("The customer's managers have changed; reload the page."))
        AssignmentChange.objects.bulk_create(
            _empty_seats(customer, by=released_by, kind=AssignmentKind.RELEASE, reason=reason)
        )
        customer.refresh_from_db()
        customer._change_reason = reason
        customer.save(update_fields=["updated_at"])
    return customer


def customer_pool_lock(*, customer: Customer, locked_by: User, locked: bool, reason: str = ""):
    """Exempt a customer from automatic return to the pool (or lift the exemption)."""
    permissions.require(permissions.can_lock_pool(locked_by, customer))
    reason = reason.strip()
    if locked and not reason:
        raise BusinessRuleError(_("Give a reason for the lock."))
    customer.pool_locked = locked
    customer.pool_lock_reason = reason if locked else ""
    customer._change_reason = reason or _("Lock lifted")
    customer.save(update_fields=["pool_locked", "pool_lock_reason", "updated_at"])
    return customer


def pool_return_run(*, today=None) -> dict[str, int]:
    """Warn the managers of customers about to go back to the pool, and return the overdue.

    Set-based: a fixed number of queries per rule, whatever the number of customers.
    Safe to run twice, also at once: serialised, and every warning and return is recorded once.
    """
    from config.jobs import serialize_job
    from notifications.services import notify_bulk

    from .selectors import with_pool_activity

    today = today or timezone.localdate()
    warned = returned = 0
    with transaction.atomic():
        serialize_job("pool_return")
        policy = PoolPolicy.current()
        system_user = None
        for rule in PoolReturnRule.objects.filter(is_active=True):
            limits = [
                (days, field, message)
                for days, field, message in (
                    (rule.days_without_contact, "last_contact", _RETURN_NO_CONTACT),
                    (rule.days_without_transaction, "last_transaction", _RETURN_NO_TRANSACTION),
                )
                if days is not None
            ]
            if not limits:
                continue
            customers = Customer.objects.filter(primary_manager__isnull=False, pool_locked=False)
            if rule.scope == PoolRuleScope.PROSPECT:
                customers = customers.filter(status=CustomerStatus.PROSPECT)
            else:
                customers = customers.filter(
                    tier=rule.scope, status__in=[CustomerStatus.ACTIVE, CustomerStatus.DORMANT]
                )
            near = Q()
            for days, field, _message in limits:
                horizon = today - timedelta(days=max(days - policy.warning_days, 0))
                near |= Q(**{f"{field}__lte": horizon})
            rows = list(
                with_pool_activity(customers)
                .filter(near)
                .select_related("primary_manager", "department__head")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            to_warn, to_return = [], []
            for customer in rows:
                due, reason = min(
                    (getattr(customer, field) + timedelta(days=days), message % {"days": days})
                    for days, field, message in limits
                )
                if due <= today:
                    to_return.append((customer, reason))
                elif due - timedelta(days=policy.warning_days) <= today:
                    to_warn.append((customer, due, reason))
            warned += _pool_warn(to_warn, notify_bulk)
            if to_return:
                system_user = system_user or _pool_actor()
                returned += _pool_return(to_return, system_user, today, notify_bulk)
    return {"warned": warned, "returned": returned}


_RETURN_NO_CONTACT = gettext_lazy("No visit or information feedback for %(days)d days")
_RETURN_NO_TRANSACTION = gettext_lazy("No transaction for %(days)d days")


def _pool_actor() -> User:
    """The account recorded as having made automatic changes."""
    user, _created = User.objects.get_or_create(
        username="system", defaults={"is_active": False, "last_name": "系统"}
    )
    return user


def _pool_warn(to_warn, notify_bulk) -> int:
    if not to_warn:
        return 0
    existing = set()
    for part in chunks([c.pk for c, _d, _r in to_warn]):
        existing |= set(
            PoolWarning.objects.filter(customer_id__in=part).values_list(
                "customer_id", "manager_id", "returns_on"
            )
        )
    fresh = [
        PoolWarning(customer=c, manager_id=c.primary_manager_id, returns_on=due, reason=reason)
        for c, due, reason in to_warn
        if (c.pk, c.primary_manager_id, due) not in existing
    ]
    PoolWarning.objects.bulk_create(fresh, ignore_conflicts=True)
    by_pk = {c.pk: c for c, _d, _r in to_warn}
    notify_bulk(
        {
            "recipient": by_pk[w.customer_id].primary_manager,
            "message": _("%(customer)s will return to the pool on %(date)s: %(reason)s.")
            % {"customer": by_pk[w.customer_id].name, "date": w.returns_on, "reason": w.reason},
            "link": by_pk[w.customer_id].get_absolute_url(),
            "dedup_key": f"pool-warning:{w.customer_id}:{w.returns_on}",
        }
        for w in fresh
    )
    return len(fresh)


def _pool_return(to_return, actor: User, today, notify_bulk) -> int:
    changes, items = [], []
    for customer, reason in to_return:
        changes += _empty_seats(customer, by=actor, kind=AssignmentKind.POOL_RETURN, reason=reason)
        message = _("%(customer)s returned to the pool: %(reason)s.") % {
            "customer": customer.name,
            "reason": reason,
        }
        for recipient in {customer.primary_manager, customer.department.head} - {None}:
            items.append(
                {
                    "recipient": recipient,
                    "message": message,
                    "link": customer.get_absolute_url(),
                    "dedup_key": f"pool-return:{customer.pk}:{today}",
                }
            )
    ids = [customer.pk for customer, _reason in to_return]
    for part in chunks(ids):
        Customer.objects.filter(pk__in=part).update(
            primary_manager=None, assistant_manager=None, updated_at=timezone.now()
        )
    AssignmentChange.objects.bulk_create(changes, batch_size=1000)
    notify_bulk(items)
    return len(ids)


# --- Managers (主辅制) ------------------------------------------------------------------------


def check_assignee(
    *,
    department_id: int,
    role: str,
    user: User | None,
    actor: User,
    other_user_id: int | None = None,
    status: str = CustomerStatus.PROSPECT,
) -> None:
    """Raise BusinessRuleError unless user may hold role for a customer of department_id.

    The one eligibility rule of a manager: the assignment page, the customer form and the
    Excel import all ask it (other_user_id is the holder of the other primary/assistant seat).
    """
    if user is None:
        if role == ManagerRole.PRIMARY and status != CustomerStatus.PROSPECT:
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
    if user.department_id != department_id and not permissions.is_admin(actor):
        raise BusinessRuleError(
            _(
                "%(user)s belongs to another department; "
                "only an admin can assign across departments."
            )
            % {"user": user}
        )
    if other_user_id is not None and other_user_id == user.pk:
        raise BusinessRuleError(
            _("The primary and assistant manager must be two different people.")
        )


def _check_assignee(*, customer: Customer, role: str, user: User | None, actor: User) -> None:
    other_role = ManagerRole.ASSISTANT if role == ManagerRole.PRIMARY else ManagerRole.PRIMARY
    check_assignee(
        department_id=customer.department_id,
        role=role,
        user=user,
        actor=actor,
        other_user_id=getattr(customer, f"{other_role.value}_id"),
        status=customer.status,
    )


def customer_assign_manager(
    *, customer: Customer, role: str, user: User | None, assigned_by: User, reason: str
) -> AssignmentChange:
    """Change one of a customer's managers, recording who, when and why."""
    permissions.require(permissions.can_assign_managers(assigned_by, customer))
    role = ManagerRole(role)
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the change."))
    with transaction.atomic():
        # Customer first, then the new manager (whose caps are counted): accounts.locks.
        locked, _subject = lock_in_order(customers=[customer], users=[user])
        customer = locked[customer.pk]
        old_user = getattr(customer, role.value)
        if (old_user.pk if old_user else None) == (user.pk if user else None):
            raise BusinessRuleError(_("Nothing to change: that is already the manager."))
        _check_assignee(customer=customer, role=role, user=user, actor=assigned_by)
        from_pool = role == ManagerRole.PRIMARY and old_user is None
        if from_pool and user is not None:
            _check_caps(user=user, policy=PoolPolicy.current(), counting_claims=False)
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
            kind=AssignmentKind.POOL_ASSIGN if from_pool else AssignmentKind.MANUAL,
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
    permissions.require(permissions.can_handover(performed_by, from_user))
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
        # Terminated customers keep their last managers on record.
        moving = (
            Customer.objects.managed_by(from_user)
            .exclude(status=CustomerStatus.TERMINATED)
            .values_list("pk", flat=True)
        )
        # The customers first, then both managers: accounts.locks.
        locked, _subject = lock_in_order(customers=list(moving), users=[from_user, to_user])
        # A customer that changed managers before its lock was granted is no longer moved.
        customers = [
            customer
            for customer in locked.values()
            if from_user.pk in (customer.primary_manager_id, customer.assistant_manager_id)
            and customer.status != CustomerStatus.TERMINATED
        ]
        handover = Handover.objects.create(
            from_user=from_user, to_user=to_user, performed_by=performed_by, reason=reason.strip()
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
                            kind=AssignmentKind.HANDOVER,
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
                        kind=AssignmentKind.HANDOVER,
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
    from contracts.services import contracts_hand_over  # draft contracts' owner

    contracts_hand_over(handover=handover)

    from visits.services import visits_handover  # open planned visits and care tasks

    visits_handover(handover=handover)

    from complaints.services import complaints_move_for_handover  # open complaints

    complaints_move_for_handover(handover=handover)


# --- Set-based writes (the Excel import) -----------------------------------------------------

# Never written by a set-based write: each has its own service (status: admission and the
# status actions; managers and department: assignment; tier and score: grading; credit terms
# and limit: credit requests).
BULK_PROTECTED_FIELDS = frozenset(
    {
        "status",
        "tier",
        "score",
        "department",
        "credit_terms",
        "credit_limit",
        *[role.value for role in ManagerRole],
    }
)
BULK_BATCH = 500


def customers_bulk_create(*, customers: list[Customer], created_by: User, reason: str) -> None:
    """Create validated prospects in bulk, with their history and assignment records.

    Every one must be a prospect without tier, score or credit: an import admits nobody.
    """
    if not customers:
        return
    fresh = Customer()
    for customer in customers:
        if (
            customer.pk is not None
            or customer.status != CustomerStatus.PROSPECT
            or customer.tier
            or customer.score is not None
            or customer.credit_terms != fresh.credit_terms
            or customer.credit_limit != fresh.credit_limit
        ):
            raise BusinessRuleError(
                _("Only new prospects without tier, score or credit can be created in bulk.")
            )
    now = timezone.now()
    for customer in customers:
        customer.created_at = now
        customer.created_by = created_by
    _bulk_create_with_history(Customer, customers, created_by, reason, now)
    AssignmentChange.objects.bulk_create(
        [
            AssignmentChange(
                customer=customer,
                role=role,
                new_user_id=getattr(customer, f"{role.value}_id"),
                changed_by=created_by,
                changed_at=now,
                reason=reason,
                kind=AssignmentKind.CREATED,
            )
            for customer in customers
            for role in (ManagerRole.PRIMARY, ManagerRole.ASSISTANT)
            if getattr(customer, f"{role.value}_id")
        ],
        batch_size=BULK_BATCH,
    )


def customers_bulk_update(
    *, changes: list[tuple[Customer, list[str]]], updated_by: User, reason: str
) -> None:
    """Save archive fields of existing customers in bulk (customer, changed field names)."""
    for _customer, fields in changes:
        if BULK_PROTECTED_FIELDS & set(fields):
            raise BusinessRuleError(_("These fields cannot be changed here."))
    _bulk_update_with_history(Customer, changes, updated_by, reason)


def contacts_bulk_write(
    *, created: list[Contact], changes: list[tuple[Contact, list[str]]], by: User, reason: str
) -> None:
    """Create and update contacts in bulk; a new primary contact ends the customer's other."""
    touched = [c for c in created if c.is_primary] + [c for c, _f in changes if c.is_primary]
    customer_ids = sorted({c.customer_id or c.customer.pk for c in touched})
    keep = [c.pk for c in touched if c.pk]
    for chunk in chunks(customer_ids, BULK_BATCH):
        Contact.objects.filter(customer_id__in=chunk, is_primary=True).exclude(pk__in=keep).update(
            is_primary=False
        )
    for contact in created:
        contact.customer_id = contact.customer.pk  # a customer created in the same import
    _bulk_create_with_history(Contact, created, by, reason, timezone.now())
    _bulk_update_with_history(Contact, changes, by, reason)


def transactions_bulk_write(
    *,
    created: list[Transaction],
    changes: list[tuple[Transaction, list[str]]],
    by: User,
    reason: str,
) -> None:
    """Create and update validated transactions in bulk.

    Each new one first passes the credit terms as on the transaction form (transaction_check),
    and is written before the next is checked: the next one's limit counts it.
    A refusal carries the record it refused (error.record).
    """
    # Credit terms, plan facts and prepayments used (先款后货) are the contracts app's rules.
    from contracts.services import prepayment_use_record, transaction_check

    now = timezone.now()
    for record in created:
        record.created_by = by
        try:
            transaction_check(record=record)
        except BusinessRuleError as error:
            error.record = record
            raise
        _bulk_create_with_history(Transaction, [record], by, reason, now)
        prepayment_use_record(records=[record])
    _bulk_update_with_history(Transaction, changes, by, reason)


def _bulk_create_with_history(model, objects: list, user: User, reason: str, when) -> None:
    """bulk_create, then the history rows (one "+" record each) written with executemany.

    simple_history's bulk_create_with_history builds a model instance per history row and
    sends it through the ORM compiler: half of an import's time. The rows are the same.
    """
    from django.db import connection

    if not objects:
        return
    model.objects.bulk_create(objects, batch_size=BULK_BATCH)
    history = model.history.model
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    special = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user.pk,
    }
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(history._meta.db_table)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
    prepared = [(f, special.get(f.attname, _MISSING)) for f in fields]
    rows = [
        tuple(
            f.get_db_prep_save(getattr(obj, f.attname) if fixed is _MISSING else fixed, connection)
            for f, fixed in prepared
        )
        for obj in objects
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[start : start + 2000])


_MISSING = object()


def _bulk_update_with_history(model, changes: list, user: User, reason: str) -> None:
    from simple_history.utils import bulk_update_with_history

    by_fields: dict[tuple[str, ...], list] = {}
    for instance, fields in changes:
        if fields:
            by_fields.setdefault(tuple(sorted(fields)), []).append(instance)
    for fields, objects in by_fields.items():
        bulk_update_with_history(
            objects,
            model,
            list(fields),
            batch_size=BULK_BATCH,
            default_user=user,
            default_change_reason=reason,
        )
