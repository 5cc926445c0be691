"""Every change to a complaint goes through these functions."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import BusinessRuleError
from accounts.locks import lock_in_order
from accounts.models import Contact, Customer, Department, Handover, User
from config.jobs import chunks, serialize_job
from notifications.services import notifications_resolve, notify, notify_bulk, notify_many
from tiers.models import TierPolicy

from . import deadlines
from . import permissions as perms
from .models import (
    FOLLOW_UP_STATUSES,
    UNRESOLVED_STATUSES,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintNote,
    EventKind,
    FollowUp,
    ReferenceCounter,
    Status,
    TaskForceMember,
)

logger = logging.getLogger(__name__)

# A satisfaction at or below this reopens the complaint (the customer is not satisfied).
UNSATISFIED_AT_OR_BELOW = 2


class StaleComplaintError(BusinessRuleError):
    """The complaint changed between loading it and acting on it."""


# --- Intake ---------------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    """Take the next number of the year; call inside the creating transaction.

    The counter row stays locked by the UPDATE until the transaction ends, so concurrent
    intakes queue up, and a rolled-back intake gives its number back: no gaps, no duplicates.
    """
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
    ReferenceCounter.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = ReferenceCounter.objects.values_list("last_number", flat=True).get(year=year)
    return f"CP-{year}-{number:06d}"


def response_hours_for(customer: Customer) -> int:
    """Return the response time of the customer's tier; ungraded customers get tier D's."""
    policy = TierPolicy.objects.for_tier(customer.tier or deadlines.UNGRADED_TIER)
    return policy.complaint_response_hours if policy else deadlines.DEFAULT_RESPONSE_HOURS


def default_assignee(customer: Customer) -> User | None:
    """The customer's primary manager; else the assistant; else the department head."""
    return customer.primary_manager or customer.assistant_manager or customer.department.head


def complaint_create(
    *,
    created_by: User,
    customer: Customer,
    channel: str,
    category: str,
    severity: str,
    description: str,
    received_at: datetime,
    contact: Contact | None = None,
    attachments=(),
) -> Complaint:
    """Register a complaint with its reference number, deadlines and default assignee."""
    if not Customer.objects.visible_to(created_by).filter(pk=customer.pk).exists():
        raise PermissionDenied
    perms.base.require(perms.can_create(created_by, customer))
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("Choose a contact of this customer.")})
    now = timezone.now()
    if received_at > now:
        raise ValidationError({"received_at": _("A complaint cannot be received in the future.")})
    complaint = Complaint(
        reference="pending",
        customer=customer,
        contact=contact,
        channel=channel,
        category=category,
        severity=severity,
        description=description.strip(),
        received_at=received_at,
        assignee=default_assignee(customer),
        response_due_at=deadlines.response_due_at(received_at, response_hours_for(customer)),
        resolution_due_at=deadlines.resolution_due_at(received_at, severity),
        created_by=created_by,
        created_at=now,
    )
    complaint.full_clean(exclude=["reference"])
    with transaction.atomic():
        complaint.reference = _next_reference(timezone.localtime(now).year)
        complaint.save()
        ComplaintEvent.objects.create(
            complaint=complaint,
            actor=created_by,
            at=now,
            from_status="",
            to_status=Status.NEW,
            comment=_("Complaint registered"),
        )
        for upload in attachments:
            ComplaintAttachment.objects.create(
                complaint=complaint, file=upload, uploaded_by=created_by, uploaded_at=now
            )
        if complaint.assignee and complaint.assignee.pk != created_by.pk:
            notify(
                recipient=complaint.assignee,
                message=_("New complaint %(ref)s from %(customer)s was assigned to you.")
                % {"ref": complaint.reference, "customer": customer},
                link=complaint.get_absolute_url(),
            )
    return complaint


# --- Workflow -------------------------------------------------------------------------------


def _fields_for(complaint: Complaint, to_status: str, now: datetime) -> dict:
    """Return the columns that a transition into to_status sets besides the status."""
    fields: dict = {}
    if complaint.status == Status.NEW:
        fields["acknowledged_at"] = now  # any first move counts as the response
    if to_status == Status.ESCALATED:
        fields["escalated_at"] = Coalesce(F("escalated_at"), Value(now))
        fields["escalated_to"] = complaint.customer.department.head
    elif to_status == Status.RESOLVED:
        fields["resolved_at"] = now
        first_due = deadlines.next_follow_up_due(timezone.localtime(now).date())
        fields["follow_up_due_on"] = Coalesce(F("follow_up_due_on"), Value(first_due))
    elif to_status == Status.CONFIRMED:
        fields["confirmed_at"] = now
    elif to_status == Status.CLOSED:
        fields["closed_at"] = now
    return fields


def _mark_late_transition(complaint: Complaint, to_status: str, now: datetime) -> None:
    """A response or resolution given after its deadline is a breach too (set once)."""
    if complaint.status == Status.NEW and now > complaint.response_due_at:
        Complaint.objects.filter(pk=complaint.pk, response_breached_at__isnull=True).update(
            response_breached_at=now
        )
    if to_status == Status.RESOLVED and now > complaint.resolution_due_at:
        Complaint.objects.filter(pk=complaint.pk, resolution_breached_at__isnull=True).update(
            resolution_breached_at=now
        )


def complaint_transition(
    *,
    complaint: Complaint,
    to_status: str,
    by: User,
    comment: str = "",
    satisfaction: int | None = None,
) -> Complaint:
    """Move the complaint along the workflow, once, if the user's role allows it.

    The UPDATE is conditional on the status the user saw: of two simultaneous requests one
    changes the row and the other is refused with a message.
    """
    from_status = complaint.status
    if (from_status, to_status) not in perms.TRANSITIONS:
        raise BusinessRuleError(
            _("A complaint that is “%(from)s” cannot become “%(to)s”.")
            % {"from": Status(from_status).label, "to": Status(to_status).label}
        )
    perms.base.require(perms.can_transition(by, complaint, to_status))
    comment = comment.strip()
    if to_status in (Status.CONFIRMED, Status.REOPENED) and satisfaction is None:
        raise BusinessRuleError(_("Record the customer's satisfaction (1–5)."))
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise BusinessRuleError(_("Satisfaction is between 1 and 5."))
    if to_status == Status.CONFIRMED and satisfaction <= UNSATISFIED_AT_OR_BELOW:
        raise BusinessRuleError(_("A customer this unsatisfied reopens the complaint."))
    if to_status in (Status.ESCALATED, Status.REOPENED) and not comment:
        raise BusinessRuleError(_("Say why in a comment."))
    now = timezone.now()
    fields = _fields_for(complaint, to_status, now)
    if satisfaction is not None:
        fields["satisfaction"] = satisfaction
        fields["satisfaction_comment"] = comment
    with transaction.atomic():
        lock_in_order(customers=[complaint.customer_id], subject=complaint)
        updated = Complaint.objects.filter(pk=complaint.pk, status=from_status).update(
            status=to_status, **fields
        )
        if updated != 1:
            current = Complaint.objects.get(pk=complaint.pk)
            raise StaleComplaintError(
                _(
                    "Complaint %(ref)s was changed by someone else in the meantime and is now "
                    "“%(status)s”. Nothing was done."
                )
                % {"ref": complaint.reference, "status": current.get_status_display()}
            )
        _mark_late_transition(complaint, to_status, now)
        if from_status == Status.ESCALATED:  # the escalation is handled
            notifications_resolve(subject=complaint)
        ComplaintEvent.objects.create(
            complaint=complaint,
            actor=by,
            at=now,
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            satisfaction=satisfaction,
        )
        complaint.refresh_from_db()
        _notify_transition(complaint, from_status, by)
    return complaint


def _notify_transition(complaint: Complaint, from_status: str, by: User | None) -> None:
    values = {
        "ref": complaint.reference,
        "customer": complaint.customer,
        "status": complaint.get_status_display(),
    }
    link = complaint.get_absolute_url()
    if complaint.status == Status.ESCALATED:
        recipients = [complaint.escalated_to]
        message = _("Complaint %(ref)s from %(customer)s was escalated to you.") % values
    elif complaint.status == Status.REOPENED:
        recipients = [complaint.assignee, complaint.escalated_to]
        message = _("The customer is not satisfied: complaint %(ref)s was reopened.") % values
    else:
        recipients = [complaint.assignee]
        message = _("Complaint %(ref)s from %(customer)s is now “%(status)s”.") % values
    notify_many(
        [r for r in recipients if r is not None and r != by],
        message=message,
        link=link,
        subject=complaint if complaint.status == Status.ESCALATED else None,
    )


def complaint_confirm(
    *,
    complaint: Complaint,
    by: User,
    satisfaction: int,
    comment: str = "",
    satisfied: bool | None = None,
) -> Complaint:
    """Record the customer's verdict on the resolution: satisfied confirms, else reopens."""
    unsatisfied = satisfied is False or satisfaction <= UNSATISFIED_AT_OR_BELOW
    if unsatisfied and not comment.strip():
        comment = _("The customer is not satisfied.")
    return complaint_transition(
        complaint=complaint,
        to_status=Status.REOPENED if unsatisfied else Status.CONFIRMED,
        by=by,
        comment=comment,
        satisfaction=satisfaction,
    )


# --- Deadlines job --------------------------------------------------------------------------


def _breach_texts(kind: str) -> tuple[str, str]:
    """Return the notice and the timeline comment for a missed deadline of this kind."""
    if kind == "response":
        return (
            _("Complaint %(ref)s from %(customer)s missed its response deadline."),
            _("Response deadline missed"),
        )
    return (
        _("Complaint %(ref)s from %(customer)s missed its resolution deadline."),
        _("Resolution deadline missed"),
    )


class _JobRow(NamedTuple):
    pk: int
    reference: str
    status: str
    follow_up_due_on: date | None
    customer: str
    assignee: User | None
    head: User | None

    @property
    def link(self) -> str:
        return reverse("complaints:detail", args=[self.pk])


def _job_rows(queryset, *, lock: bool = True) -> list[_JobRow]:
    """Load (and lock) the complaints a step of the job acts on as plain rows, with the people
    it notifies: a few columns a complaint and one User object a person, so that memory stays
    small with a hundred thousand complaints."""
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    rows = list(
        queryset.order_by("pk").values_list(
            "pk",
            "reference",
            "status",
            "follow_up_due_on",
            "customer__name",
            "assignee_id",
            "customer__department__head_id",
        )
    )
    people = User.objects.in_bulk({pk for row in rows for pk in row[5:] if pk is not None})
    return [_JobRow(*row[:5], assignee=people.get(row[5]), head=people.get(row[6])) for row in rows]


def _mark_breaches(kind: str, now: datetime) -> int:
    """Mark one deadline missed on every complaint past it, once; record and notify each."""
    field = f"{kind}_breached_at"
    statuses = [Status.NEW] if kind == "response" else list(UNRESOLVED_STATUSES)
    complaints = _job_rows(
        Complaint.objects.filter(
            status__in=statuses, **{f"{field}__isnull": True, f"{kind}_due_at__lt": now}
        )
    )
    for part in chunks([complaint.pk for complaint in complaints]):
        Complaint.objects.filter(pk__in=part).update(**{field: now})
    message, comment = _breach_texts(kind)
    ComplaintEvent.objects.bulk_create(
        [
            ComplaintEvent(
                complaint_id=complaint.pk,
                kind=EventKind.BREACH,
                at=now,
                from_status=complaint.status,
                to_status=complaint.status,
                comment=comment,
            )
            for complaint in complaints
        ],
        batch_size=1000,
    )
    notify_bulk(
        {
            "recipient": recipient,
            "message": message % {"ref": complaint.reference, "customer": complaint.customer},
            "link": complaint.link,
            "dedup_key": f"complaint-{kind}-breach:{complaint.pk}",
        }
        for complaint in complaints
        for recipient in {complaint.assignee, complaint.head} - {None}
    )
    return len(complaints)


def _escalate_breached(now: datetime) -> int:
    """Escalate breached complaints to their department head; never twice in a complaint's life."""
    escalable = [s for s in UNRESOLVED_STATUSES if (s, Status.ESCALATED) in perms.TRANSITIONS]
    complaints = _job_rows(
        Complaint.objects.breached().filter(status__in=escalable, escalated_at__isnull=True)
    )
    head = Subquery(
        Customer.objects.filter(pk=OuterRef("customer_id")).values("department__head")[:1]
    )
    for part in chunks([complaint.pk for complaint in complaints]):
        Complaint.objects.filter(pk__in=part).update(
            status=Status.ESCALATED, escalated_at=now, escalated_to=head
        )
    ComplaintEvent.objects.bulk_create(
        [
            ComplaintEvent(
                complaint_id=complaint.pk,
                at=now,
                from_status=complaint.status,
                to_status=Status.ESCALATED,
                comment=_("Escalated automatically: a deadline was missed."),
            )
            for complaint in complaints
        ],
        batch_size=1000,
    )
    message = _("Complaint %(ref)s from %(customer)s missed a deadline and was escalated to you.")
    notify_bulk(
        {
            "recipient": complaint.head,
            "message": message % {"ref": complaint.reference, "customer": complaint.customer},
            "link": complaint.link,
            "dedup_key": f"complaint-escalated:{complaint.pk}",
            "subject": f"complaints.complaint:{complaint.pk}",
        }
        for complaint in complaints
        if complaint.head is not None
    )
    return len(complaints)


def complaint_check_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Mark missed deadlines, notify, escalate once, and remind due follow-ups.

    Set-based: a fixed number of queries per step (per chunk of complaints), whatever the number
    of complaints. Safe to run twice at once: serialised, the complaints each step acts on are
    locked, and notifications carry a dedup key.
    """
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    with transaction.atomic():
        serialize_job("complaint_check_deadlines")
        summary = {
            "response_breaches": _mark_breaches("response", now),
            "resolution_breaches": _mark_breaches("resolution", now),
            "escalated": _escalate_breached(now),
        }
        follow_ups = _job_rows(
            Complaint.objects.follow_up_due(today).filter(assignee__isnull=False), lock=False
        )
        message = _("A follow-up of complaint %(ref)s (%(customer)s) is due.")
        sent = notify_bulk(
            {
                "recipient": complaint.assignee,
                "message": message % {"ref": complaint.reference, "customer": complaint.customer},
                "link": complaint.link,
                "dedup_key": f"complaint-follow-up:{complaint.pk}:{complaint.follow_up_due_on}",
            }
            for complaint in follow_ups
        )
        summary["follow_ups"] = len(sent)
    return summary


# --- Task force, entries, attachments, follow-up --------------------------------------------


def complaint_task_force_add(
    *,
    complaint: Complaint,
    by: User,
    user: User | None = None,
    department: Department | None = None,
) -> TaskForceMember:
    """Add a staff member or a whole department to an A-tier complaint's task force."""
    perms.base.require(perms.can_handle(by, complaint))
    if complaint.customer.tier != "A":
        raise BusinessRuleError(_("Only complaints of A-tier customers have a task force."))
    if (user is None) == (department is None):
        raise BusinessRuleError(_("Choose either a staff member or a department."))
    if complaint.status == Status.CLOSED:
        raise BusinessRuleError(_("The complaint is closed."))
    if user is not None and not user.is_active:
        raise BusinessRuleError(_("%(user)s is inactive.") % {"user": user})
    existing = (
        complaint.task_force.filter(user=user)
        if user
        else complaint.task_force.filter(department=department)
    )
    if existing.exists():
        raise BusinessRuleError(_("Already in the task force."))
    with transaction.atomic():
        member = TaskForceMember.objects.create(
            complaint=complaint, user=user, department=department, added_by=by
        )
        recipient = user or department.head
        if recipient is not None and recipient != by:
            notify(
                recipient=recipient,
                message=_("You were added to the task force of complaint %(ref)s (%(customer)s).")
                % {"ref": complaint.reference, "customer": complaint.customer},
                link=complaint.get_absolute_url(),
            )
    complaint._task_force_cache = None
    return member


def complaint_note_add(*, complaint: Complaint, by: User, text: str) -> ComplaintNote:
    perms.base.require(perms.can_add_entries(by, complaint))
    if not text.strip():
        raise BusinessRuleError(_("Write something."))
    return ComplaintNote.objects.create(complaint=complaint, author=by, text=text.strip())


def complaint_attachment_add(*, complaint: Complaint, by: User, file) -> ComplaintAttachment:
    perms.base.require(perms.can_add_entries(by, complaint))
    return ComplaintAttachment.objects.create(complaint=complaint, file=file, uploaded_by=by)


def follow_up_add(*, complaint: Complaint, by: User, date: date, note: str) -> FollowUp:
    """Record a follow-up with the customer; the next one is due a month later."""
    perms.base.require(perms.can_add_entries(by, complaint))
    if complaint.status not in FOLLOW_UP_STATUSES:
        raise BusinessRuleError(_("Follow-ups start once the complaint is resolved."))
    if complaint.impact_eliminated_at is not None:
        raise BusinessRuleError(_("The impact is already marked eliminated."))
    if date > timezone.localdate():
        raise BusinessRuleError(_("A follow-up cannot be dated in the future."))
    if not note.strip():
        raise BusinessRuleError(_("Write what the customer said."))
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            complaint=complaint, date=date, by=by, note=note.strip()
        )
        latest = complaint.follow_ups.aggregate(latest=Max("date"))["latest"]
        Complaint.objects.filter(pk=complaint.pk, impact_eliminated_at__isnull=True).update(
            follow_up_due_on=deadlines.next_follow_up_due(latest)
        )
    return follow_up


def complaint_impact_eliminate(*, complaint: Complaint, by: User, comment: str = "") -> Complaint:
    """Mark the complaint's impact eliminated: follow-ups stop being due."""
    perms.base.require(perms.can_handle(by, complaint))
    now = timezone.now()
    with transaction.atomic():
        updated = Complaint.objects.filter(
            pk=complaint.pk, impact_eliminated_at__isnull=True, status__in=FOLLOW_UP_STATUSES
        ).update(impact_eliminated_at=now, impact_eliminated_by=by, follow_up_due_on=None)
        if updated != 1:
            raise BusinessRuleError(
                _("Only a resolved complaint whose impact is not yet eliminated can be marked.")
            )
        ComplaintNote.objects.create(
            complaint=complaint,
            author=by,
            created_at=now,
            text=_("Impact marked eliminated.") + (f" {comment.strip()}" if comment else ""),
        )
    complaint.refresh_from_db()
    return complaint


# --- Handover -------------------------------------------------------------------------------


def complaints_move_for_handover(*, handover: Handover) -> int:
    """Give the leaving manager's complaints that are not closed to the successor."""
    moving = list(
        Complaint.objects.filter(assignee=handover.from_user)
        .exclude(status=Status.CLOSED)
        .values_list("pk", "status")
    )
    if not moving:
        return 0
    Complaint.objects.filter(pk__in=[pk for pk, _status in moving]).update(
        assignee=handover.to_user
    )
    comment = _("Reassigned from %(from)s to %(to)s by a handover.") % {
        "from": handover.from_user,
        "to": handover.to_user,
    }
    ComplaintEvent.objects.bulk_create(
        ComplaintEvent(
            complaint_id=pk,
            kind=EventKind.ASSIGNMENT,
            actor=handover.performed_by,
            at=handover.performed_at,
            from_status=status,
            to_status=status,
            comment=comment,
        )
        for pk, status in moving
    )
    return len(moving)
