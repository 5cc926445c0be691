"""Every change to a contract goes through these functions: atomic, guarded, recorded.

Choices made where the policy is silent:
- A contract's number (HT-2026-0001) is taken when it is drafted, from a per-year counter row.
- Steps are materialised from the active rules when the contract is submitted; later rule
  changes only affect later submissions. Each resubmission after a rejection is a new round.
- When the contract's owner is the department's head, the head's step goes to an executive
  (nobody decides on their own contract).
- Admins configure rules but decide steps only if they hold the step's role.
- Contracts of A-tier customers become active when filed (备案); others when marked signed.
- The end date is the last day in force; the daily job run on the next day expires it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import BusinessRuleError
from accounts.locks import lock_in_order
from accounts.models import CreditTerms, Customer, CustomerStatus, Department, Transaction, User
from accounts.permissions import Role, heads_department, is_finance, require
from config.jobs import chunks, history_record_changes, serialize_job
from notifications.services import (
    notifications_resolve,
    notify,
    notify_bulk,
    notify_many,
    subject_key,
)

from . import permissions, selectors
from .models import (
    CREDIT_REQUEST_OPEN,
    ApprovalRound,
    ApprovalRule,
    ApprovalStep,
    Collection,
    CollectionAllocation,
    Contract,
    ContractNumberCounter,
    ContractStatus,
    CreditOverride,
    CreditPolicy,
    CreditRequest,
    CreditRequestStatus,
    DeciderRole,
    InstalmentState,
    PaymentInstalment,
    PaymentMethod,
    PrepaymentUse,
    RoundOutcome,
    StepStatus,
)
from .rules import (
    REMINDER_DAYS_BEFORE,
    RuleCondition,
    allocate_in_order,
    due_reminder,
    over_credit_limit,
    plan_mismatch,
    required_steps,
)

ZERO_MONEY = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))

EDITABLE_FIELDS = (
    "title",
    "amount",
    "start_date",
    "end_date",
    "payment_terms",
    "discount_percent",
    "text_document",
)
REMINDER_DAYS = (60, 30, 7)


class StepAlreadyDecided(BusinessRuleError):
    """Someone else decided this step first (or the round has moved on)."""


# --- Numbers -------------------------------------------------------------------------------


def next_contract_number(year: int) -> str:
    """Take the next number of the year: call inside the transaction that creates the contract.

    The counter row is bumped with one atomic UPDATE, which holds its row lock (PostgreSQL) or
    the write lock (SQLite, IMMEDIATE transactions) until commit: numbers are unique, and a
    rolled-back creation gives its number back, so the sequence has no gaps.
    """
    counters = ContractNumberCounter.objects.filter(year=year)
    if counters.update(value=F("value") + 1) == 0:
        try:
            with transaction.atomic():
                ContractNumberCounter.objects.create(year=year, value=1)
        except IntegrityError:  # Another transaction created the year's row first.
            counters.update(value=F("value") + 1)
    value = counters.values_list("value", flat=True).get()
    return f"HT-{year}-{value:04d}"


# --- Drafting ------------------------------------------------------------------------------


def _check_fields(contract: Contract) -> None:
    contract.full_clean(exclude=["number"])


def contract_create(
    *, customer: Customer, created_by: User, instalments: list[dict] | None = None, **fields
) -> Contract:
    """Draft a contract for a customer the user manages; it gets its number at once.

    instalments: an optional payment plan drafted with it (see plan_set), all or nothing.
    """
    require(permissions.can_draft_for(created_by, customer))
    if customer.status not in (CustomerStatus.ACTIVE, CustomerStatus.DORMANT):
        raise BusinessRuleError(_("Contracts can only be drafted for admitted customers."))
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise BusinessRuleError(_("These fields cannot be set here."))
    contract = Contract(
        customer=customer,
        department_id=customer.department_id,
        owner=created_by,
        created_by=created_by,
        status=ContractStatus.DRAFT,
        **fields,
    )
    _check_fields(contract)
    with transaction.atomic():
        contract.number = next_contract_number(timezone.localdate().year)
        contract._change_reason = _("Drafted")
        contract.save()
        if instalments:  # a payment plan drafted with the contract
            plan_set(contract=contract, set_by=created_by, instalments=instalments)
    return contract


def contract_update(*, contract: Contract, updated_by: User, **fields) -> Contract:
    """Change a draft (also one returned by a rejection)."""
    require(permissions.owns(updated_by, contract))
    if contract.status != ContractStatus.DRAFT:
        raise BusinessRuleError(_("Only a draft can be edited; reload the page."))
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise BusinessRuleError(_("These fields cannot be changed here."))
    for name, value in fields.items():
        setattr(contract, name, value)
    _check_fields(contract)
    with transaction.atomic():
        if not Contract.objects.filter(pk=contract.pk, status=ContractStatus.DRAFT).exists():
            raise BusinessRuleError(_("Only a draft can be edited; reload the page."))
        contract._change_reason = _("Draft edited")
        contract.save()
    return contract


# --- Approval ------------------------------------------------------------------------------


def active_rule_conditions() -> list[RuleCondition]:
    return [rule.as_condition() for rule in ApprovalRule.objects.filter(is_active=True)]


def deciders_for(step: ApprovalStep) -> QuerySet:
    """Return the active users entitled to decide this step (its owner excluded)."""
    users = User.objects.filter(is_active=True).exclude(pk=step.contract.owner_id)
    if step.decider_role == DeciderRole.DEPARTMENT_HEAD:
        return (
            users.filter(groups__name=Role.DEPARTMENT_HEAD)
            .filter(Q(department_id=step.department_id) | Q(headed_departments=step.department_id))
            .distinct()
        )
    group = Role.FINANCE if step.decider_role == DeciderRole.FINANCE else Role.EXECUTIVE
    return users.filter(groups__name=group).distinct()


def _notify_deciders(step: ApprovalStep) -> None:
    contract = step.contract
    notify_many(
        deciders_for(step),
        message=_("Contract %(number)s (%(customer)s) awaits your approval: %(step)s.")
        % {"number": contract.number, "customer": contract.customer.name, "step": step.name},
        link=contract.get_absolute_url(),
        subject=step,
    )


def contract_submit(*, contract: Contract, submitted_by: User) -> ApprovalRound:
    """Submit a draft: the rules in force now fix the round's steps; step 1 becomes current."""
    require(permissions.owns(submitted_by, contract))
    contract = Contract.objects.select_related("customer", "owner").get(pk=contract.pk)
    if contract.status != ContractStatus.DRAFT:
        raise BusinessRuleError(_("This contract has already been submitted."))
    _check_fields(contract)
    planned = list(contract.instalments.values_list("amount", flat=True))
    if planned and plan_mismatch(contract.amount, planned):
        raise BusinessRuleError(
            _("The payment plan no longer adds up to the contract amount; correct it first.")
        )
    tier = contract.customer.tier
    conditions = required_steps(
        active_rule_conditions(),
        amount=contract.amount,
        discount=contract.discount_percent,
        tier=tier,
        over_credit_limit=contract_over_credit_limit(contract),
    )
    if not conditions:
        raise BusinessRuleError(_("No approval rule applies; ask an admin to check the rules."))
    now = timezone.now()
    with transaction.atomic():
        moved = Contract.objects.filter(pk=contract.pk, status=ContractStatus.DRAFT).update(
            status=ContractStatus.PENDING, submitted_at=now, updated_at=now
        )
        if moved != 1:
            raise BusinessRuleError(_("This contract has already been submitted."))
        last = contract.rounds.aggregate(last=Max("number"))["last"] or 0
        round_ = ApprovalRound.objects.create(
            contract=contract,
            number=last + 1,
            submitted_by=submitted_by,
            submitted_at=now,
            amount=contract.amount,
            discount_percent=contract.discount_percent,
            customer_tier=tier,
        )
        steps = []
        for position, condition in enumerate(conditions, start=1):
            role, name = condition.decider_role, condition.name
            if role == DeciderRole.DEPARTMENT_HEAD and heads_department(
                contract.owner, contract.department_id
            ):
                # The head drafted this contract and may not approve it: an executive does.
                role = DeciderRole.EXECUTIVE
                name = _("%(name)s (escalated: the head owns the contract)") % {"name": name}
            steps.append(
                ApprovalStep(
                    round=round_,
                    contract=contract,
                    order=position,
                    rule_id=condition.rule_id,
                    name=name[:100],
                    decider_role=role,
                    department_id=contract.department_id,
                    status=StepStatus.PENDING if position == 1 else StepStatus.WAITING,
                )
            )
        ApprovalStep.objects.bulk_create(steps)
        contract.refresh_from_db()
        contract._change_reason = _("Submitted for approval (round %(number)d)") % {
            "number": round_.number
        }
        contract.save(update_fields=["updated_at"])
        first = round_.steps.select_related("contract__customer").get(order=1)
        _notify_deciders(first)
    return round_


def step_decide(
    *, step: ApprovalStep, decided_by: User, approve: bool, comment: str = ""
) -> ApprovalStep:
    """Approve or reject the current step, exactly once, by someone entitled to it."""
    step = ApprovalStep.objects.select_related("contract", "contract__customer", "round").get(
        pk=step.pk
    )
    contract = step.contract
    if contract.owner_id == decided_by.pk:
        raise PermissionDenied(_("You cannot decide on your own contract."))
    require(permissions.can_decide(decided_by, step))
    comment = comment.strip()
    if not approve and not comment:
        raise BusinessRuleError(_("Give a reason for the rejection."))
    if step.is_decided:
        raise StepAlreadyDecided(_("This step has already been decided."))
    if step.status != StepStatus.PENDING:
        raise StepAlreadyDecided(_("This step is not open for a decision."))
    now = timezone.now()
    new_status = StepStatus.APPROVED if approve else StepStatus.REJECTED
    with transaction.atomic():
        lock_in_order(customers=[contract.customer_id], subject=step)
        claimed = ApprovalStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(
            status=new_status, decided_by=decided_by, decided_at=now, comment=comment
        )
        if claimed != 1:
            raise StepAlreadyDecided(
                _("Someone else has just decided this step; your decision was not recorded.")
            )
        step.refresh_from_db()
        notifications_resolve(subject=step)
        link = contract.get_absolute_url()
        values = {
            "number": contract.number,
            "step": step.name,
            "user": decided_by,
            "comment": comment,
        }
        signing = None
        if approve:
            next_step = (
                step.round.steps.filter(order__gt=step.order, status=StepStatus.WAITING)
                .order_by("order")
                .first()
            )
            if next_step is not None:
                ApprovalStep.objects.filter(pk=next_step.pk, status=StepStatus.WAITING).update(
                    status=StepStatus.PENDING
                )
                next_step.refresh_from_db()
                next_step.contract = contract
                reason = _("%(step)s approved by %(user)s") % values
                message = _("Contract %(number)s: %(step)s approved by %(user)s.") % values
                _notify_deciders(next_step)
            else:
                ApprovalRound.objects.filter(pk=step.round_id).update(
                    outcome=RoundOutcome.APPROVED, closed_at=now
                )
                Contract.objects.filter(pk=contract.pk, status=ContractStatus.PENDING).update(
                    status=ContractStatus.APPROVED, approved_at=now, updated_at=now
                )
                reason = _("Approved")
                message = _("Contract %(number)s is approved; you can now have it signed.") % values
                signing = contract  # the owner is asked to have it signed
        else:
            step.round.steps.filter(status=StepStatus.WAITING).update(status=StepStatus.CANCELLED)
            ApprovalRound.objects.filter(pk=step.round_id).update(
                outcome=RoundOutcome.REJECTED, closed_at=now
            )
            Contract.objects.filter(pk=contract.pk, status=ContractStatus.PENDING).update(
                status=ContractStatus.DRAFT, rejection_comment=comment, updated_at=now
            )
            reason = _("%(step)s rejected by %(user)s: %(comment)s") % values
            message = (
                _("Contract %(number)s was rejected at %(step)s by %(user)s: %(comment)s") % values
            )
        _record(contract, reason)
        notify(recipient=contract.owner, message=message, link=link, subject=signing)
    return step


def _record(contract: Contract, reason: str) -> Contract:
    """Write a history entry for a change made by a conditional update()."""
    contract.refresh_from_db()
    contract._change_reason = reason[:100]
    contract.save(update_fields=["updated_at"])
    return contract


# --- Signing, filing, expiry ----------------------------------------------------------------


def contract_mark_signed(
    *, contract: Contract, signed_by: User, signed_scan, signed_on: datetime.date | None = None
) -> Contract:
    """Record the signature with its scan. Without a filing duty it takes effect at once."""
    require(permissions.can_mark_signed(signed_by, contract))
    if not signed_scan:
        raise BusinessRuleError(_("Upload the signed scan."))
    signed_on = signed_on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        moved = Contract.objects.filter(pk=contract.pk, status=ContractStatus.APPROVED).update(
            status=ContractStatus.SIGNED, signed_on=signed_on, signed_by=signed_by, updated_at=now
        )
        if moved != 1:
            raise BusinessRuleError(_("Only an approved contract can be marked signed."))
        notifications_resolve(subject=contract)
        contract.refresh_from_db()
        contract.signed_scan = signed_scan
        contract._change_reason = _("Signed")
        contract.save(update_fields=["signed_scan", "updated_at"])
        if not contract.needs_filing:
            Contract.objects.filter(pk=contract.pk, status=ContractStatus.SIGNED).update(
                status=ContractStatus.ACTIVE, activated_at=now
            )
            _record(contract, _("In force"))
    return contract


def contract_file(
    *,
    contract: Contract,
    filed_by: User,
    filed_on: datetime.date | None = None,
    filing_reference: str = "",
) -> Contract:
    """File (备案) a signed contract; it then takes effect."""
    require(permissions.can_file(filed_by, contract))
    filed_on = filed_on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        moved = (
            Contract.objects.filter(pk=contract.pk, status=ContractStatus.SIGNED)
            .exclude(signed_scan="")
            .update(
                status=ContractStatus.ACTIVE,
                filed_on=filed_on,
                filed_by=filed_by,
                filing_reference=filing_reference.strip(),
                activated_at=now,
                updated_at=now,
            )
        )
        if moved != 1:
            raise BusinessRuleError(_("Only a signed contract with its scan can be filed."))
        _record(contract, _("Filed (备案) and in force"))
        notify(
            recipient=contract.owner,
            message=_("Contract %(number)s was filed and is now in force.")
            % {"number": contract.number},
            link=contract.get_absolute_url(),
        )
    return contract


def contract_terminate(*, contract: Contract, terminated_by: User, reason: str) -> Contract:
    """End a signed or active contract early, with a reason."""
    require(permissions.can_terminate(terminated_by, contract))
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the termination."))
    now = timezone.now()
    with transaction.atomic():
        moved = Contract.objects.filter(
            pk=contract.pk, status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE]
        ).update(
            status=ContractStatus.TERMINATED,
            terminated_at=now,
            terminated_by=terminated_by,
            terminated_reason=reason.strip(),
            updated_at=now,
        )
        if moved != 1:
            raise BusinessRuleError(_("Only a signed or active contract can be terminated."))
        _record(contract, _("Terminated"))
    return contract


def reminder_threshold(days_left: int) -> int | None:
    """Return the reminder (60, 30 or 7 days) due with days_left to go, or None.

    The most urgent threshold reached wins, so a job that missed a day still reminds once.
    """
    reached = [days for days in REMINDER_DAYS if 0 <= days_left <= days]
    return min(reached) if reached else None


def contracts_expire(*, today: datetime.date | None = None) -> int:
    """Mark active contracts past their end date expired; return how many.

    The end date is the last day in force: the job run on the following day expires it.
    Set-based (a few queries per chunk of contracts) and serialised, so each contract is
    expired, and its history written, once.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    reason = _("Expired")
    with transaction.atomic():
        serialize_job("contracts_expire")
        ended = list(
            Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for part in chunks(ended):
            Contract.objects.filter(pk__in=part).update(
                status=ContractStatus.EXPIRED, expired_at=now, updated_at=now
            )
            history_record_changes(Contract.objects.filter(pk__in=part), reason=reason, when=now)
    return len(ended)


def contracts_send_expiry_reminders(*, today: datetime.date | None = None) -> int:
    """Remind owners of active contracts 60, 30 and 7 days before the end; each once."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=max(REMINDER_DAYS))
    contracts = Contract.objects.filter(
        status=ContractStatus.ACTIVE, end_date__gte=today, end_date__lte=horizon
    ).select_related("owner", "customer")
    items = []
    for contract in contracts.order_by("pk"):
        days_left = (contract.end_date - today).days
        threshold = reminder_threshold(days_left)
        if threshold is None:
            continue
        items.append(
            {
                "recipient": contract.owner,
                "message": _(
                    "Contract %(number)s with %(customer)s ends on %(end)s (%(days)d days left)."
                )
                % {
                    "number": contract.number,
                    "customer": contract.customer.name,
                    "end": contract.end_date.isoformat(),
                    "days": days_left,
                },
                "link": contract.get_absolute_url(),
                "dedup_key": f"contract-expiry:{contract.pk}:{threshold}",
            }
        )
    with transaction.atomic():
        serialize_job("contracts_expiry_reminders")
        return len(notify_bulk(items))


def contracts_daily_job(*, today: datetime.date | None = None) -> dict[str, int]:
    """The daily contract job: expire what ended, then send the due reminders."""
    today = today or timezone.localdate()
    return {
        "expired": contracts_expire(today=today),
        "reminders": contracts_send_expiry_reminders(today=today),
    }


# --- Handover ------------------------------------------------------------------------------


def contracts_hand_over(*, handover) -> int:
    """Give the leaving manager's draft contracts to the successor; return how many."""
    count = 0
    drafts = Contract.objects.filter(owner=handover.from_user, status=ContractStatus.DRAFT)
    for contract in drafts.order_by("pk"):
        contract.owner = handover.to_user
        contract._change_reason = _("Handover")
        contract.save(update_fields=["owner", "updated_at"])
        count += 1
    return count


# --- Receivables (回款) ----------------------------------------------------------------------
# Choices made where the policy is silent:
# - A plan belongs to a contract and must add up to its amount. It can be set with the draft
#   or after approval, and replaced until money or a delivery is recorded against it.
# - A collection is recorded on a contract and allocated at once to its open instalments,
#   earliest due first (CollectionAllocation rows, so partial payments stay explicit). A
#   collection larger than what the contract still owes is refused: the excess belongs to
#   another contract or is a refund, and finance books those outside the CRM.
# - Only confirmed collections (finance, exactly once) count as paid.
# - The transactions are linked to instalments by reference: a delivery recorded for an
#   instalment carries its code (HT-2026-0001/2). Its due date and paid date are written from
#   the instalment's facts (never typed), and rewritten when a collection is confirmed, so the
#   tier score's payment_record and the receivables pages read the same facts.
# - An instalment that is not delivered yet has no transaction, so it is not in payment_record
#   (nothing delivered, nothing owed late); it is on the receivables lists all the same.
# - Prepaid (先款后货) is enforced on every delivery: one under a plan needs its instalment paid,
#   and every delivery needs confirmed collections of the customer that no earlier delivery
#   used up (PrepaymentUse rows record what each delivery used).
# - A credit customer's exposure: open instalments of approved/signed/active/expired contracts,
#   such contracts without a plan at full amount, and unpaid transactions outside any plan.

PLAN_STATUSES = (
    ContractStatus.DRAFT,
    ContractStatus.APPROVED,
    ContractStatus.SIGNED,
    ContractStatus.ACTIVE,
)
COLLECTION_STATUSES = (
    ContractStatus.APPROVED,
    ContractStatus.SIGNED,
    ContractStatus.ACTIVE,
    ContractStatus.EXPIRED,
)


def _lock_contract(contract_id: int) -> None:
    """Serialise writes to one contract's plan and collections (row lock / SQLite write lock)."""
    Contract.objects.filter(pk=contract_id).update(updated_at=timezone.now())


def plan_set(*, contract: Contract, set_by: User, instalments: list[dict]) -> list:
    """Set (or replace) a contract's payment plan: instalments with due date and amount."""
    require(permissions.can_manage_plan(set_by, contract))
    contract = Contract.objects.select_related("customer").get(pk=contract.pk)
    if contract.status not in PLAN_STATUSES:
        raise BusinessRuleError(
            _("A payment plan can be set on a draft or an approved, signed or active contract.")
        )
    if not instalments:
        raise BusinessRuleError(_("Add at least one instalment."))
    difference = plan_mismatch(contract.amount, [row["amount"] for row in instalments])
    if difference:
        raise BusinessRuleError(
            _(
                "The instalments add up to ¥%(total)s but the contract amount is ¥%(amount)s: "
                "%(direction)s ¥%(difference)s."
            )
            % {
                "total": f"{contract.amount + difference:,.2f}",
                "amount": f"{contract.amount:,.2f}",
                "direction": _("remove") if difference > 0 else _("add"),
                "difference": f"{abs(difference):,.2f}",
            }
        )
    rows = sorted(instalments, key=lambda row: row["due_date"])
    built = [
        PaymentInstalment(
            contract=contract,
            sequence=position,
            due_date=row["due_date"],
            amount=row["amount"],
            note=(row.get("note") or "").strip(),
        )
        for position, row in enumerate(rows, start=1)
    ]
    for instalment in built:
        instalment.full_clean(exclude=["contract", "sequence"])
    with transaction.atomic():
        _lock_contract(contract.pk)
        existing = PaymentInstalment.objects.filter(contract=contract)
        if CollectionAllocation.objects.filter(instalment__contract=contract).exists():
            raise BusinessRuleError(
                _("Collections are recorded against this plan; it can no longer be replaced.")
            )
        codes = [f"{contract.number}/{n}" for n in existing.values_list("sequence", flat=True)]
        if Transaction.objects.filter(customer=contract.customer_id, reference__in=codes).exists():
            raise BusinessRuleError(
                _("Deliveries are recorded against this plan; it can no longer be replaced.")
            )
        # No money and no delivery hangs off the old plan yet: replacing it is editing a draft.
        # Its rows stay in the history (simple_history records the deletion).
        for old in existing:
            old._change_reason = _("Plan replaced")
            old.delete()
        for instalment in built:
            instalment._change_reason = _("Plan set")
            instalment.save()
        _record(contract, _("Payment plan set (%(count)d instalments)") % {"count": len(built)})
    return built


def collection_record(
    *,
    contract: Contract,
    recorded_by: User,
    received_on: datetime.date,
    amount,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
    note: str = "",
) -> Collection:
    """Record a payment received on a contract and allocate it to its open instalments."""
    require(permissions.can_record_collection(recorded_by, contract))
    contract = Contract.objects.select_related("customer").get(pk=contract.pk)
    if contract.status not in COLLECTION_STATUSES:
        raise BusinessRuleError(_("Collections are recorded on approved or signed contracts."))
    if received_on > timezone.localdate():
        raise BusinessRuleError(_("The date received cannot be in the future."))
    collection = Collection(
        contract=contract,
        received_on=received_on,
        amount=amount,
        method=method,
        reference=reference.strip(),
        note=note.strip(),
        recorded_by=recorded_by,
    )
    collection.full_clean()
    with transaction.atomic():
        _lock_contract(contract.pk)
        # Pending collections reserve their share too, so two entries cannot pay one instalment.
        open_balances = [
            (row.pk, row.amount - row.allocated)
            for row in contract.instalments.annotate(
                allocated=Coalesce(Sum("allocations__amount"), ZERO_MONEY)
            ).order_by("due_date", "sequence")
        ]
        if not open_balances:
            raise BusinessRuleError(_("Set the contract's payment plan before recording money."))
        allocations, left = allocate_in_order(collection.amount, open_balances)
        if left > 0:
            still_open = collection.amount - left
            raise BusinessRuleError(
                _(
                    "This payment is ¥%(excess)s more than the ¥%(open)s still open on the "
                    "contract. Record only what this contract is owed."
                )
                % {"excess": f"{left:,.2f}", "open": f"{still_open:,.2f}"}
            )
        collection._change_reason = _("Recorded")
        collection.save()
        CollectionAllocation.objects.bulk_create(
            CollectionAllocation(collection=collection, instalment_id=pk, amount=share)
            for pk, share in allocations
        )
        notify_many(
            User.objects.filter(is_active=True, groups__name=Role.FINANCE).distinct(),
            message=_("A payment of ¥%(amount)s on contract %(number)s awaits your confirmation.")
            % {"amount": f"{collection.amount:,.2f}", "number": contract.number},
            link=reverse("contracts:receivables_unconfirmed"),
            subject=collection,
        )
    return collection


def collection_confirm(*, collection: Collection, confirmed_by: User) -> Collection:
    """Finance confirms a collection, exactly once; the paid facts then count."""
    require(permissions.can_confirm_collection(confirmed_by))
    now = timezone.now()
    with transaction.atomic():
        lock_in_order(
            customers=Collection.objects.filter(pk=collection.pk).values_list(
                "contract__customer_id", flat=True
            ),
            subject=collection,
        )
        claimed = Collection.objects.filter(pk=collection.pk, confirmed_at__isnull=True).update(
            confirmed_at=now, confirmed_by=confirmed_by
        )
        if claimed != 1:
            raise BusinessRuleError(_("This collection has already been confirmed."))
        notifications_resolve(subject=collection)
        collection = Collection.objects.select_related("contract", "contract__owner").get(
            pk=collection.pk
        )
        collection._change_reason = _("Confirmed by finance")
        collection.save(update_fields=["confirmed_at"])
        instalment_ids = list(collection.allocations.values_list("instalment_id", flat=True))
        transactions_sync(instalment_ids=instalment_ids)
        notify(
            recipient=collection.contract.owner,
            message=_("Finance confirmed ¥%(amount)s received on contract %(number)s.")
            % {"amount": f"{collection.amount:,.2f}", "number": collection.contract.number},
            link=collection.contract.get_absolute_url(),
        )
    return collection


def transactions_sync(*, instalment_ids) -> int:
    """Write the instalments' due date and paid date onto their delivery transactions."""
    count = 0
    rows = PaymentInstalment.objects.filter(pk__in=list(instalment_ids)).select_related("contract")
    for row in rows.with_facts():
        count += Transaction.objects.filter(
            customer_id=row.contract.customer_id, reference=row.code
        ).update(due_date=row.due_date, paid_date=row.paid_on)
    return count


# --- Credit terms: the check accounts.services.transaction_add calls ------------------------


def transaction_check(*, record: Transaction) -> None:
    """Apply the credit terms to a transaction about to be recorded; fill in instalment facts.

    - A delivery naming an instalment (reference HT-2026-0001/2) takes its due date and paid
      date from the instalment; one delivery per instalment.
    - A prepaid customer's delivery, naming an instalment or not, needs confirmed payments
      that cover it (prepaid_delivery_check).
    - A credit customer's transaction outside any plan that takes open receivables over the
      credit limit is refused unless finance granted an override; it is used up here.
    """
    customer = record.customer
    instalment = selectors.instalment_by_code(customer, record.reference)
    if instalment is not None:
        if Transaction.objects.filter(customer=customer, reference=instalment.code).exists():
            raise BusinessRuleError(
                _("A delivery is already recorded for instalment %(code)s.")
                % {"code": instalment.code}
            )
        prepaid_delivery_check(record=record, instalment=instalment)
        if instalment.due_date < record.date:
            # accounts keeps due date ≥ transaction date: the sale is dated no later than the
            # instalment's due date, which is what the payment record is measured against.
            record.date = instalment.due_date
        record.due_date = instalment.due_date
        record.paid_date = instalment.paid_on
        return
    prepaid_delivery_check(record=record, instalment=None)
    if customer.credit_terms != CreditTerms.CREDIT or record.paid_date is not None:
        return
    open_receivables = selectors.customer_open_receivables(customer)
    if not over_credit_limit(
        credit_terms=customer.credit_terms,
        credit_limit=customer.credit_limit,
        open_receivables=open_receivables,
        amount=record.amount,
    ):
        return
    override = (
        CreditOverride.objects.filter(
            customer=customer, used_at__isnull=True, max_amount__gte=record.amount
        )
        .order_by("approved_at")
        .first()
    )
    if override is not None and (
        CreditOverride.objects.filter(pk=override.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        == 1
    ):
        return
    raise BusinessRuleError(
        _(
            "This takes %(customer)s's open receivables to ¥%(total)s, over the credit limit of "
            "¥%(limit)s. Finance must approve an override first."
        )
        % {
            "customer": customer.name,
            "total": f"{open_receivables + record.amount:,.2f}",
            "limit": f"{customer.credit_limit:,.2f}",
        }
    )


def credit_override_grant(
    *, customer: Customer, granted_by: User, max_amount, reason: str
) -> CreditOverride:
    """Finance lets one transaction of up to max_amount go over the customer's credit limit."""
    require(permissions.can_confirm_collection(granted_by))
    if not reason.strip():
        raise BusinessRuleError(_("Give a reason for the override."))
    override = CreditOverride(
        customer=customer, max_amount=max_amount, reason=reason.strip(), approved_by=granted_by
    )
    override.full_clean()
    override._change_reason = _("Granted")
    override.save()
    return override


def contract_over_credit_limit(contract: Contract) -> bool:
    """Whether submitting this contract takes the customer over the credit limit."""
    customer = contract.customer
    if customer.credit_terms != CreditTerms.CREDIT:
        return False
    return over_credit_limit(
        credit_terms=customer.credit_terms,
        credit_limit=customer.credit_limit,
        open_receivables=selectors.customer_open_receivables(customer),
        amount=contract.amount,
    )


# --- Reminders -----------------------------------------------------------------------------


def receivables_send_reminders(*, today: datetime.date | None = None) -> dict[str, int]:
    """Remind owners 7 days before and on each due date; on Mondays send each head one digest
    of the department's overdue instalments. Each reminder once (dedup keys)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=REMINDER_DAYS_BEFORE)
    due = (
        PaymentInstalment.objects.filter(
            contract__status__in=selectors.RECEIVABLE_STATUSES,
            due_date__gte=today,
            due_date__lte=horizon,
        )
        .with_facts(today=today)
        .exclude(state=InstalmentState.PAID)
        .select_related("contract", "contract__owner", "contract__customer__primary_manager")
        .order_by("pk")
    )
    items = []
    for row in due:
        kind = due_reminder((row.due_date - today).days)
        if kind is None:
            continue
        values = {
            "code": row.code,
            "customer": row.contract.customer.name,
            "amount": f"{row.open_amount:,.2f}",
            "due": row.due_date.isoformat(),
        }
        message = (
            _("Instalment %(code)s of %(customer)s (¥%(amount)s open) is due today.")
            if kind == 0
            else _("Instalment %(code)s of %(customer)s (¥%(amount)s open) is due on %(due)s.")
        ) % values
        owner = row.contract.owner
        # An owner who has left: the customer's manager follows the money up instead.
        recipient = owner if owner.is_active else row.contract.customer.primary_manager
        items.append(
            {
                "recipient": recipient,
                "message": message,
                "link": row.get_absolute_url(),
                "dedup_key": f"receivable-due:{row.pk}:{kind}",
            }
        )
    with transaction.atomic():
        serialize_job("receivables_reminders")
        sent = {"due": len(notify_bulk(items)), "digests": 0}
        if today.weekday() == 0:
            sent["digests"] = _send_overdue_digests(today)
    return sent


def _send_overdue_digests(today: datetime.date) -> int:
    overdue = (
        PaymentInstalment.objects.filter(
            contract__status__in=selectors.RECEIVABLE_STATUSES, due_date__lt=today
        )
        .with_facts(today=today)
        .exclude(state=InstalmentState.PAID)
    )
    summary = selectors.ageing_summary(overdue, group_by="contract__department")
    departments = Department.objects.select_related("head").in_bulk(
        [row["contract__department"] for row in summary]
    )
    year, week, _weekday = today.isocalendar()
    items = []
    for row in summary:
        department = departments[row["contract__department"]]
        if department.head is None:
            continue
        items.append(
            {
                "recipient": department.head,
                "message": _(
                    "Overdue receivables of %(department)s: %(count)d instalments, ¥%(total)s "
                    "(over 90 days: ¥%(old)s)."
                )
                % {
                    "department": department.name,
                    "count": row["count"],
                    "total": f"{row['total']:,.2f}",
                    "old": f"{row['b3']:,.2f}",
                },
                "link": reverse("contracts:receivables_department") + "?state=overdue",
                "dedup_key": f"receivables-overdue:{department.pk}:{year}-W{week:02d}",
            }
        )
    return len(notify_bulk(items))


# --- Prepaid deliveries (先款后货) -------------------------------------------------------------


def _lock_customer(customer_id: int) -> None:
    """Serialise the deliveries of one customer (row lock; SQLite: the IMMEDIATE write lock)."""
    if transaction.get_connection().in_atomic_block:
        list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk"))


def prepaid_delivery_check(
    *, record: Transaction, instalment: PaymentInstalment | None = None, pending=Decimal("0")
) -> None:
    """Refuse a prepaid customer's delivery that confirmed payments do not cover.

    Every path that records a transaction calls this (the form through transaction_check, the
    Excel import per row). A delivery naming an instalment needs that instalment paid; every
    delivery needs confirmed collections of the customer not yet used by earlier deliveries,
    less `pending` (rows of the same import before this one). A covered delivery is paid: its
    paid date is the delivery date unless one was given.
    """
    customer = record.customer
    if customer.credit_terms != CreditTerms.PREPAID:
        return
    if instalment is None:
        instalment = selectors.instalment_by_code(customer, record.reference)
    if instalment is not None and instalment.state != InstalmentState.PAID:
        raise BusinessRuleError(
            _(
                "%(customer)s pays before delivery (先款后货): instalment %(code)s must be "
                "paid and confirmed by finance before the delivery is recorded."
            )
            % {"customer": customer.name, "code": instalment.code}
        )
    _lock_customer(customer.pk)
    available = selectors.prepayment_balance(customer) - Decimal(pending)
    if Decimal(record.amount) > available:
        raise BusinessRuleError(
            _(
                "%(customer)s pays before delivery (先款后货): this delivery of ¥%(amount)s "
                "needs payments confirmed by finance that cover it; ¥%(available)s is "
                "available."
            )
            % {
                "customer": customer.name,
                "amount": f"{Decimal(record.amount):,.2f}",
                "available": f"{max(available, Decimal('0')):,.2f}",
            }
        )
    if record.paid_date is None:
        record.paid_date = record.date


def prepayment_use_record(*, records) -> int:
    """Record what saved deliveries of prepaid customers used of their payments."""
    uses = [
        PrepaymentUse(customer_id=record.customer_id, transaction=record, amount=record.amount)
        for record in records
        if record.pk and record.customer.credit_terms == CreditTerms.PREPAID
    ]
    PrepaymentUse.objects.bulk_create(uses, batch_size=500)
    return len(uses)


# --- Credit requests (信用申请) ----------------------------------------------------------------
# Choices made where the policy is silent:
# - A customer has at most one open request; it is decided by finance, then by an executive
#   when the proposed limit is above the policy's amount (fixed when proposed).
# - A prepaid customer has no limit: proposing prepaid terms means a limit of 0.
# - Each step keeps the exposure (receivable balance, overdue) its decider saw.


class CreditRequestDecided(BusinessRuleError):
    """Someone else decided this request first (or it has moved on)."""


def _credit_deciders(status: str) -> QuerySet:
    group = Role.FINANCE if status == CreditRequestStatus.PENDING_FINANCE else Role.EXECUTIVE
    return User.objects.filter(is_active=True, groups__name=group).distinct()


def _credit_values(credit_request: CreditRequest) -> dict:
    return {
        "customer": credit_request.customer.name,
        "terms": credit_request.get_new_terms_display(),
        "limit": f"{credit_request.new_limit:,.2f}",
    }


def credit_request_submit(
    *, customer: Customer, proposed_by: User, credit_terms: str, credit_limit, reason: str
) -> CreditRequest:
    """Propose new credit terms and limit for a customer; finance is asked to decide."""
    require(permissions.can_propose_credit(proposed_by, customer))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for the credit request."))
    if credit_terms not in CreditTerms.values:
        raise BusinessRuleError(_("Choose prepaid or credit terms."))
    credit_limit = Decimal(credit_limit or 0)
    if credit_terms == CreditTerms.PREPAID and credit_limit != 0:
        raise BusinessRuleError(_("A prepaid customer has no credit limit; enter 0."))
    customer = Customer.objects.get(pk=customer.pk)
    if (credit_terms, credit_limit) == (customer.credit_terms, customer.credit_limit):
        raise BusinessRuleError(_("These are the customer's current terms and limit."))
    exposure = selectors.customer_exposure(customer)
    credit_request = CreditRequest(
        customer=customer,
        old_terms=customer.credit_terms,
        old_limit=customer.credit_limit,
        new_terms=credit_terms,
        new_limit=credit_limit,
        reason=reason,
        needs_executive=credit_limit > CreditPolicy.current().executive_above,
        proposed_by=proposed_by,
        proposed_balance=exposure.balance,
        proposed_overdue=exposure.overdue,
    )
    credit_request.full_clean(validate_constraints=False)
    with transaction.atomic():
        if CreditRequest.objects.filter(customer=customer, status__in=CREDIT_REQUEST_OPEN).exists():
            raise BusinessRuleError(_("This customer already has an open credit request."))
        try:
            with transaction.atomic():
                credit_request.save()
        except IntegrityError as error:
            raise BusinessRuleError(
                _("This customer already has an open credit request.")
            ) from error
        notify_many(
            _credit_deciders(CreditRequestStatus.PENDING_FINANCE).exclude(pk=proposed_by.pk),
            message=_(
                "Credit request for %(customer)s (%(terms)s, limit ¥%(limit)s) awaits your "
                "decision."
            )
            % _credit_values(credit_request),
            link=credit_request.get_absolute_url(),
            subject=_credit_step_subject(credit_request, CreditRequestStatus.PENDING_FINANCE),
        )
    return credit_request


def _credit_step_subject(credit_request: CreditRequest, step: str) -> str:
    """The work a decider is asked for: one step of one request (finance's, the executive's)."""
    return f"{subject_key(credit_request)}:{step}"


def customer_credit_apply(
    *, customer: Customer, credit_terms: str, credit_limit, changed_by: User, reason: str
) -> Customer:
    """Write new credit terms and limit onto a customer, in its history. Call only from an
    approved credit request, inside its transaction."""
    customer = Customer.objects.get(pk=customer.pk)
    customer.credit_terms = credit_terms
    customer.credit_limit = credit_limit
    # Only the two fields change: an old flaw elsewhere in the archive must not block it.
    others = [
        f.name for f in Customer._meta.fields if f.name not in ("credit_terms", "credit_limit")
    ]
    customer.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    customer._change_reason = reason[:100]
    customer._history_user = changed_by
    customer.save(update_fields=["credit_terms", "credit_limit", "updated_at"])
    return customer


def credit_request_decide(
    *, credit_request: CreditRequest, decided_by: User, approve: bool, comment: str = ""
) -> CreditRequest:
    """Finance's or the executive's decision on the request's current step, exactly once.

    Approval of the last step applies the new terms to the customer in the same transaction.
    """
    credit_request = CreditRequest.objects.select_related("customer", "proposed_by").get(
        pk=credit_request.pk
    )
    if credit_request.proposed_by_id == decided_by.pk:
        raise PermissionDenied(_("You cannot decide on your own credit request."))
    if not credit_request.is_open:
        raise CreditRequestDecided(_("This credit request has already been decided."))
    if not permissions.can_decide_credit(decided_by, credit_request):
        if credit_request.finance_at is not None and is_finance(decided_by):
            # Finance lost the race to another finance user: their step is done.
            raise CreditRequestDecided(_("Finance has already decided this request."))
        raise PermissionDenied
    comment = (comment or "").strip()
    if not approve and not comment:
        raise BusinessRuleError(_("Give a reason for the rejection."))
    step = credit_request.status
    exposure = selectors.customer_exposure(credit_request.customer)
    now = timezone.now()
    prefix = "finance" if step == CreditRequestStatus.PENDING_FINANCE else "executive"
    forward = approve and step == CreditRequestStatus.PENDING_FINANCE
    forward = forward and credit_request.needs_executive
    if not approve:
        new_status = CreditRequestStatus.REJECTED
    elif forward:
        new_status = CreditRequestStatus.PENDING_EXECUTIVE
    else:
        new_status = CreditRequestStatus.APPROVED
    values = {
        "status": new_status,
        f"{prefix}_by": decided_by,
        f"{prefix}_at": now,
        f"{prefix}_comment": comment,
        f"{prefix}_balance": exposure.balance,
        f"{prefix}_overdue": exposure.overdue,
    }
    with transaction.atomic():
        claimed = CreditRequest.objects.filter(pk=credit_request.pk, status=step).update(**values)
        if claimed != 1:
            raise CreditRequestDecided(
                _("Someone else has just decided this request; your decision was not recorded.")
            )
        notifications_resolve(subject=_credit_step_subject(credit_request, step))
        credit_request.refresh_from_db()
        texts = _credit_values(credit_request) | {"user": decided_by, "comment": comment}
        link = credit_request.get_absolute_url()
        if new_status == CreditRequestStatus.APPROVED:
            customer_credit_apply(
                customer=credit_request.customer,
                credit_terms=credit_request.new_terms,
                credit_limit=credit_request.new_limit,
                changed_by=decided_by,
                reason=_("Credit request approved by %(user)s") % texts,
            )
            message = (
                _(
                    "Credit request for %(customer)s approved by %(user)s: %(terms)s, limit "
                    "¥%(limit)s."
                )
                % texts
            )
        elif new_status == CreditRequestStatus.PENDING_EXECUTIVE:
            notify_many(
                _credit_deciders(new_status).exclude(pk=credit_request.proposed_by_id),
                message=_(
                    "Credit request for %(customer)s (%(terms)s, limit ¥%(limit)s), approved by "
                    "finance, awaits your decision."
                )
                % texts,
                link=link,
                subject=_credit_step_subject(credit_request, new_status),
            )
            message = (
                _(
                    "Credit request for %(customer)s approved by finance (%(user)s); it now "
                    "awaits an executive."
                )
                % texts
            )
        else:
            message = _("Credit request for %(customer)s rejected by %(user)s: %(comment)s") % texts
        notify(recipient=credit_request.proposed_by, message=message, link=link)
    return credit_request
