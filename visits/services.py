"""Business rules of the visits app: plans, records, reminders, care, feedback, archive checks.

Other apps come in through these services: a tier change (grading publication, an upheld
appeal) calls visit_plans_refresh_after_commit; a manager handover calls visits_handover; the
daily beat entry "visits-daily" (visits.tasks.visits_daily_run_task, or the management command
send_visit_reminders) runs visits_daily_run; regenerate_visit_plans runs visit_plan_regenerate
for every active customer. The pool's return rules count the latest visit record and
information feedback as contact (settings.POOL_CONTACT_SOURCES, visits.selectors).

Choices where the policy is silent:
- A plan is counted from the last visit record, else the approved admission, else creation.
  Ungraded customers use tier D's interval (180 days if D has no TierPolicy).
- A date set by hand (moved, or the "next visit date" of a record) is kept when the plan is
  regenerated, also after a tier change. A cancelled visit skips its cycle: the next one is one
  interval after the cancelled due date.
- The first-visit rule (at least two staff participants) applies when the customer has no
  earlier visit record at all.
- Feedback counts on the customer's tier when it was filed (stored on the feedback).
- Archive check: due each quarter; overdue when not verified in the previous quarter either (a
  customer never verified counts from its creation). Reminders: overdue ones weekly, this
  quarter's in the last two weeks of the quarter; one digest notification per manager per week.
- Care budget: a warning message and a notification to the manager and the head when the
  year's spending passes the tier's yearly budget (a D-tier customer has none).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import get_connection, send_mass_mail
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import BusinessRuleError
from accounts.models import (
    AdmissionDecision,
    AdmissionRequest,
    Contact,
    Customer,
    CustomerStatus,
    DecisionRole,
    Handover,
    User,
)
from accounts.permissions import require
from config.jobs import chunks, serialize_job
from notifications.models import Notification
from notifications.services import notify_bulk
from tiers.models import TierPolicy

from . import permissions, rules
from .models import (
    ArchiveCheck,
    CareExpense,
    CareKind,
    CareStatus,
    CareTask,
    FeedbackCategory,
    Holiday,
    InformationFeedback,
    PlannedVisit,
    VisitRecord,
    VisitReminder,
    VisitStatus,
)

logger = logging.getLogger(__name__)


class TooFewParticipantsError(BusinessRuleError):
    """The first visit to a newly admitted customer has fewer than two staff participants."""


def _policy_days() -> dict[str, int]:
    return dict(TierPolicy.objects.values_list("tier", "visit_interval_days"))


# --- Plans -----------------------------------------------------------------------------------


def _plan_rows(customers):
    """Return, per customer, what its next due date is computed from (one query)."""
    last_visit = Subquery(
        VisitRecord.objects.filter(customer=OuterRef("pk")).order_by("-date").values("date")[:1]
    )
    last_cancelled = Subquery(
        PlannedVisit.objects.filter(customer=OuterRef("pk"), status=VisitStatus.CANCELLED)
        .order_by("-due_date")
        .values("due_date")[:1]
    )
    admitted_at = Subquery(
        AdmissionRequest.objects.filter(
            customer=OuterRef("pk"), decision=AdmissionDecision.APPROVED
        )
        .order_by("-decided_at")
        .values("decided_at")[:1]
    )
    open_plan = PlannedVisit.objects.filter(customer=OuterRef("pk"), status=VisitStatus.PLANNED)
    return customers.annotate(
        last_visit=last_visit,
        last_cancelled=last_cancelled,
        admitted_at=admitted_at,
        open_id=Subquery(open_plan.values("pk")[:1]),
        open_due=Subquery(open_plan.values("due_date")[:1]),
        open_fixed=Subquery(open_plan.values("date_fixed")[:1]),
    ).values_list(
        "pk", "tier", "primary_manager_id", "created_at", "admitted_at", "last_visit",
        "last_cancelled", "open_id", "open_due", "open_fixed",
    )  # fmt: skip


def _local_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value)
    return value


def visit_plan_regenerate(*, customer_ids: list[int] | None = None) -> dict[str, int]:
    """Give every active customer (or those listed) exactly one open planned visit.

    Set-based and idempotent: a few queries per chunk of customers; the due date is counted
    from the last completed visit (or admission/creation) by the tier's interval, except dates
    set by hand (moved, or the next date given on a record), which are kept. Open visits of
    customers no longer active are cancelled. Call it after tiers change (grading publication,
    upheld appeal) and after a visit is recorded.
    """
    policy_days = _policy_days()
    created = updated = cancelled = 0
    now = timezone.now()
    with transaction.atomic():
        stale = PlannedVisit.objects.open().exclude(customer__status=CustomerStatus.ACTIVE)
        if customer_ids is not None:
            stale = stale.filter(customer_id__in=customer_ids)
        cancelled = stale.update(
            status=VisitStatus.CANCELLED,
            reason=_("The customer is no longer active."),
            closed_at=now,
        )
        active = Customer.objects.filter(status=CustomerStatus.ACTIVE).order_by("pk")
        if customer_ids is None:
            batches = _keyset_batches(active)
        else:
            batches = (active.filter(pk__in=ids) for ids in chunks(sorted(set(customer_ids))))
        for batch in batches:
            c, u = _regenerate_batch(batch, policy_days, now)
            created += c
            updated += u
        # The assignee follows the customer's primary manager.
        reassign = PlannedVisit.objects.open().filter(
            Q(assigned_to__isnull=True, customer__primary_manager__isnull=False)
            | Q(assigned_to__isnull=False, customer__primary_manager__isnull=True)
            | (
                Q(assigned_to__isnull=False, customer__primary_manager__isnull=False)
                & ~Q(assigned_to=F("customer__primary_manager"))
            )
        )
        if customer_ids is not None:
            reassign = reassign.filter(customer_id__in=customer_ids)
        reassign.update(
            assigned_to=Subquery(
                Customer.objects.filter(pk=OuterRef("customer_id")).values("primary_manager")[:1]
            )
        )
    return {"created": created, "updated": updated, "cancelled": cancelled}


def visit_plans_refresh_after_commit(*, customer_ids: list[int]) -> None:
    """Regenerate these customers' plans in a Celery task once the transaction commits.

    For callers that change many tiers at once (grading publication, upheld appeal): the
    regeneration then never slows down or breaks the caller's transaction.
    """
    from config.celery import enqueue_on_commit

    from .tasks import visit_plan_regenerate_task

    ids = sorted(set(customer_ids))
    if ids:
        # Sent after commit; kept for a later re-send if the broker is down, never raised.
        enqueue_on_commit(visit_plan_regenerate_task, ids)


def _keyset_batches(queryset):
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).values_list("pk", flat=True)[: settings.JOB_CHUNK_SIZE]
        )
        if not ids:
            return
        last = ids[-1]
        yield queryset.filter(pk__gte=ids[0], pk__lte=last)


def _regenerate_batch(customers, policy_days: dict[str, int], now) -> tuple[int, int]:
    new, moves = [], {}
    for row in _plan_rows(customers):
        pk, tier, manager_id, created_at, admitted_at, last_visit, last_cancelled = row[:7]
        open_id, open_due, open_fixed = row[7:]
        due = rules.next_due_date(
            tier=tier,
            policy_days=policy_days,
            start=_local_date(admitted_at) or _local_date(created_at),
            last_visit=last_visit,
            last_cancelled_due=last_cancelled,
        )
        if open_id is None:
            new.append(
                PlannedVisit(
                    customer_id=pk, due_date=due, assigned_to_id=manager_id, created_at=now
                )
            )
        elif not open_fixed and open_due != due:
            moves[open_id] = due
    PlannedVisit.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new), _move_due_dates(moves)


def _move_due_dates(moves: dict[int, date]) -> int:
    """Give each open visit its new due date in one UPDATE … FROM (VALUES …) statement."""
    if not moves:
        return 0
    ops = connection.ops
    table = ops.quote_name(PlannedVisit._meta.db_table)
    # VALUES columns are column1, column2 on both databases; PostgreSQL reads the text as a date.
    due = "CAST(v.column2 AS date)" if connection.vendor == "postgresql" else "v.column2"
    rows = ", ".join(["(%s, %s)"] * len(moves))
    params = [value for pk, day in moves.items() for value in (pk, ops.adapt_datefield_value(day))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET due_date = {due} FROM (VALUES {rows}) AS v "
            f"WHERE {table}.id = v.column1 AND {table}.status = %s AND NOT {table}.date_fixed",
            [*params, VisitStatus.PLANNED],
        )
        return max(cursor.rowcount, 0)


def planned_visit_move(
    *, visit: PlannedVisit, new_date: date, reason: str, moved_by: User
) -> PlannedVisit:
    """Move an open visit to another date: it is closed as moved and a new one takes its place."""
    require(permissions.can_change_plan(moved_by, visit))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for moving the visit."))
    if new_date < timezone.localdate():
        raise BusinessRuleError(_("A visit cannot be moved into the past."))
    if new_date == visit.due_date:
        raise BusinessRuleError(_("Choose a date other than the current one."))
    with transaction.atomic():
        claimed = PlannedVisit.objects.filter(pk=visit.pk, status=VisitStatus.PLANNED).update(
            status=VisitStatus.MOVED, reason=reason, closed_by=moved_by, closed_at=timezone.now()
        )
        if claimed != 1:
            raise BusinessRuleError(_("This visit is no longer open."))
        successor = PlannedVisit(
            customer=visit.customer,
            due_date=new_date,
            assigned_to_id=visit.assigned_to_id,
            date_fixed=True,
            moved_from=visit,
            reason=reason,
        )
        successor._change_reason = reason
        successor.save()
    visit.refresh_from_db()
    return successor


def planned_visit_cancel(*, visit: PlannedVisit, reason: str, cancelled_by: User) -> PlannedVisit:
    """Cancel an open visit; the next one is planned one interval after its due date."""
    require(permissions.can_change_plan(cancelled_by, visit))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for cancelling the visit."))
    with transaction.atomic():
        claimed = PlannedVisit.objects.filter(pk=visit.pk, status=VisitStatus.PLANNED).update(
            status=VisitStatus.CANCELLED,
            reason=reason,
            closed_by=cancelled_by,
            closed_at=timezone.now(),
        )
        if claimed != 1:
            raise BusinessRuleError(_("This visit is no longer open."))
        visit_plan_regenerate(customer_ids=[visit.customer_id])
    visit.refresh_from_db()
    return visit


def visits_handover(*, handover: Handover) -> int:
    """Give the successor the open visits and care tasks of the departing manager."""
    moved = PlannedVisit.objects.open().filter(assigned_to=handover.from_user_id)
    count = moved.update(assigned_to=handover.to_user_id)
    CareTask.objects.filter(status=CareStatus.OPEN, assigned_to=handover.from_user_id).update(
        assigned_to=handover.to_user_id
    )
    return count


# --- Records ---------------------------------------------------------------------------------


def visit_record_create(
    *,
    customer: Customer,
    recorded_by: User,
    participants: list[User],
    contacts: list[Contact] | None = None,
    **fields,
) -> VisitRecord:
    """Record a visit (拜访记录), complete the open planned visit and plan the next one."""
    require(permissions.can_record_visit(recorded_by, customer))
    contacts = list(contacts or [])
    participants = list({user.pk: user for user in participants}.values())
    if not participants:
        raise BusinessRuleError(_("Name the staff who took part in the visit."))
    if any(contact.customer_id != customer.pk for contact in contacts):
        raise BusinessRuleError(_("Only this customer's contacts can be chosen."))
    visit_date = fields.get("date")
    if visit_date is None or visit_date > timezone.localdate():
        raise BusinessRuleError(_("A visit is recorded on or after the day it took place."))
    next_date = fields.get("next_visit_date")
    if next_date is not None and next_date <= visit_date:
        raise BusinessRuleError(_("The next visit date must come after this visit."))
    with transaction.atomic():
        # Serialise records of one customer so that the first-visit rule holds under races.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        has_earlier = VisitRecord.objects.filter(customer=customer).exists()
        if rules.first_visit_participants_error(
            has_earlier_record=has_earlier, participant_count=len(participants)
        ):
            raise TooFewParticipantsError(
                _(
                    "The first visit to a newly admitted customer needs at least "
                    "%(count)d staff participants."
                )
                % {"count": rules.FIRST_VISIT_MIN_PARTICIPANTS}
            )
        record = VisitRecord(customer=customer, recorded_by=recorded_by, **fields)
        record.full_clean(exclude=["participants", "contacts"])
        record.save()
        record.participants.set(participants)
        record.contacts.set(contacts)
        PlannedVisit.objects.filter(customer=customer, status=VisitStatus.PLANNED).update(
            status=VisitStatus.COMPLETED,
            completed_by_record=record,
            closed_by=recorded_by,
            closed_at=timezone.now(),
        )
        if next_date is not None and customer.status == CustomerStatus.ACTIVE:
            PlannedVisit.objects.create(
                customer=customer,
                due_date=next_date,
                assigned_to_id=customer.primary_manager_id,
                date_fixed=True,
                reason=_("Next visit date given on the visit record."),
            )
        visit_plan_regenerate(customer_ids=[customer.pk])
    return record


# --- Reminders -------------------------------------------------------------------------------


def visit_reminders_send(*, today: date | None = None) -> dict[str, int]:
    """Remind assignees of visits due within 3 days and of overdue ones, once per visit a day.

    In-app: one notification per visit; e-mail: one digest per person. Set-based: two
    INSERT … SELECT statements and a handful of reads, whatever the number of visits.
    Serialised, and every reminder is recorded (VisitReminder, unique per visit and day), so a
    second run, even at the same time, sends nothing.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=rules.REMINDER_DAYS_AHEAD)
    now = timezone.now()
    ops = connection.ops
    day_param, now_param = ops.adapt_datefield_value(today), ops.adapt_datetimefield_value(now)
    tables = {
        "pv": PlannedVisit._meta.db_table,
        "vr": VisitReminder._meta.db_table,
        "user": User._meta.db_table,
        "customer": Customer._meta.db_table,
        "notification": Notification._meta.db_table,
    }
    with transaction.atomic():
        serialize_job("visit_reminders")
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO {vr} (planned_visit_id, day, recipient_id, sent_at)
                SELECT p.id, %s, p.assigned_to_id, %s
                FROM {pv} p JOIN {user} u ON u.id = p.assigned_to_id
                WHERE p.status = %s AND p.due_date <= %s AND u.is_active
                  AND NOT EXISTS (
                    SELECT 1 FROM {vr} r WHERE r.planned_visit_id = p.id AND r.day = %s
                  )
                """.format(**tables),
                [
                    day_param,
                    now_param,
                    VisitStatus.PLANNED,
                    ops.adapt_datefield_value(horizon),
                    day_param,
                ],
            )
            reminded = max(cursor.rowcount, 0)
            if reminded:
                overdue_sql, overdue_params = _message_sql(
                    _("Overdue visit: %(customer)s was due on %(date)s.")
                )
                due_sql, due_params = _message_sql(_("Visit due: %(customer)s on %(date)s."))
                cursor.execute(
                    """
                    INSERT INTO {notification} (recipient_id, message, link, created_at, dedup_key)
                    SELECT r.recipient_id,
                           CASE WHEN p.due_date < %s THEN {overdue} ELSE {due} END,
                           %s, %s,
                           %s || CAST(p.id AS TEXT) || %s
                    FROM {vr} r
                    JOIN {pv} p ON p.id = r.planned_visit_id
                    JOIN {customer} c ON c.id = p.customer_id
                    WHERE r.day = %s AND r.sent_at = %s
                    ON CONFLICT DO NOTHING
                    """.format(overdue=overdue_sql, due=due_sql, **tables),
                    [
                        day_param,
                        *overdue_params,
                        *due_params,
                        reverse("visits:list"),
                        now_param,
                        "visit-reminder:",
                        f":{today.isoformat()}",
                        day_param,
                        now_param,
                    ],
                )
        mails = _reminder_digests(today=today, sent_at=now) if reminded else []
        if mails:
            transaction.on_commit(lambda: _send_mails(mails))
    people = len({mail[3][0] for mail in mails})
    return {"reminded": reminded, "people": people if mails else 0, "emails": len(mails)}


_PLACEHOLDER = re.compile(r"%\((customer|date)\)s")
_PLACEHOLDER_SQL = {"customer": "c.name", "date": "CAST(p.due_date AS TEXT)"}


def _message_sql(template: str) -> tuple[str, list[str]]:
    """Turn a translated message with %(customer)s and %(date)s into SQL concatenation, so that
    a translation may put them in any order."""
    parts, params = [], []
    for index, piece in enumerate(_PLACEHOLDER.split(template)):
        if index % 2:
            parts.append(_PLACEHOLDER_SQL[piece])
        elif piece:
            parts.append("%s")
            params.append(piece.replace("%%", "%"))
    return "(" + " || ".join(parts or ["''"]) + ")", params


def _reminder_digests(*, today: date, sent_at) -> list[tuple]:
    """Return one e-mail per person reminded in this run, listing their visits."""
    rows = (
        VisitReminder.objects.filter(day=today, sent_at=sent_at)
        .values_list("recipient_id", "planned_visit__customer__name", "planned_visit__due_date")
        .order_by("recipient_id", "planned_visit__due_date", "planned_visit_id")
    )
    visits = defaultdict(list)
    for recipient_id, name, due in rows:
        visits[recipient_id].append((name, due))
    users = User.objects.filter(pk__in=list(visits)).exclude(email="").in_bulk()
    link = _absolute(reverse("visits:list"))
    mails = []
    for recipient_id, items in visits.items():
        user = users.get(recipient_id)
        if user is None:
            continue
        overdue = [f"- {name} ({due.isoformat()})" for name, due in items if due < today]
        due_soon = [f"- {name} ({due.isoformat()})" for name, due in items if due >= today]
        context = {
            "user": user,
            "today": today,
            "count": len(items),
            "overdue": "\n".join(overdue),
            "due_soon": "\n".join(due_soon),
            "link": link,
        }
        subject = render_to_string("visits/email/visit_reminders-subject.txt", context).strip()
        body = render_to_string("visits/email/visit_reminders-body.txt", context)
        mails.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return mails


def _absolute(path: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _send_mails(mails: list[tuple]) -> None:
    try:
        send_mass_mail(mails, connection=get_connection())
    except Exception:  # A mail server fault must never undo the reminders.
        logger.exception("Could not send %d visit reminder e-mails", len(mails))


# --- Care ------------------------------------------------------------------------------------


def care_tasks_generate(*, today: date | None = None) -> dict[str, int]:
    """Create the care tasks of the coming week: holidays for A and B customers, birthdays of
    A-tier decision makers. Idempotent (a unique key per task); a digest notice per manager."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=rules.CARE_DAYS_AHEAD)
    with transaction.atomic():
        serialize_job("care_tasks")
        tasks = []
        holidays = list(Holiday.objects.filter(is_active=True, date__range=(today, horizon)))
        if holidays:
            customers = list(
                Customer.objects.filter(
                    status=CustomerStatus.ACTIVE, tier__in=["A", "B"]
                ).values_list("pk", "primary_manager_id")
            )
            for holiday in holidays:
                tasks += [
                    CareTask(
                        customer_id=pk,
                        kind=CareKind.HOLIDAY,
                        holiday=holiday,
                        due_date=holiday.date,
                        assigned_to_id=manager_id,
                        key=f"holiday:{holiday.pk}:{pk}",
                    )
                    for pk, manager_id in customers
                ]
        days = Q()
        for month, day in rules.upcoming_month_days(today):
            days |= Q(birthday__month=month, birthday__day=day)
        contacts = Contact.objects.filter(
            days,
            is_active=True,
            decision_role=DecisionRole.DECISION_MAKER,
            customer__status=CustomerStatus.ACTIVE,
            customer__tier="A",
        ).values_list("pk", "customer_id", "birthday", "customer__primary_manager_id")
        for pk, customer_id, birthday, manager_id in contacts:
            occasion = rules.next_birthday(birthday, today)
            tasks.append(
                CareTask(
                    customer_id=customer_id,
                    kind=CareKind.BIRTHDAY,
                    contact_id=pk,
                    due_date=occasion,
                    assigned_to_id=manager_id,
                    key=f"birthday:{pk}:{occasion.year}",
                )
            )
        existing = set()
        for keys in chunks([task.key for task in tasks]):
            existing |= set(CareTask.objects.filter(key__in=keys).values_list("key", flat=True))
        fresh = [task for task in tasks if task.key not in existing]
        CareTask.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
        per_manager = defaultdict(int)
        for task in fresh:
            if task.assigned_to_id:
                per_manager[task.assigned_to_id] += 1
        managers = User.objects.in_bulk(list(per_manager))
        notify_bulk(
            {
                "recipient": managers[manager_id],
                "message": _("%(count)d new care tasks (greetings) for the coming week.")
                % {"count": count},
                "link": reverse("visits:care_list"),
                "dedup_key": f"care-tasks:{manager_id}:{today.isoformat()}",
            }
            for manager_id, count in per_manager.items()
        )
    return {"created": len(fresh)}


def care_task_done(*, task: CareTask, done_by: User, note: str = "") -> CareTask:
    require(permissions.can_keep_care(done_by, task.customer))
    with transaction.atomic():
        claimed = CareTask.objects.filter(pk=task.pk, status=CareStatus.OPEN).update(
            status=CareStatus.DONE, done_by=done_by, done_at=timezone.now(), note=note.strip()
        )
        if claimed != 1:
            raise BusinessRuleError(_("This care task is already done."))
    task.refresh_from_db()
    return task


def care_budget(customer: Customer, *, year: int) -> rules.BudgetStatus:
    """Return the customer's care spending in a year against its tier's yearly budget."""
    policy = TierPolicy.objects.for_tier(customer.tier)
    budget = policy.yearly_care_budget if policy else Decimal(0)
    spent = CareExpense.objects.filter(customer=customer, date__year=year).aggregate(
        total=Sum("cost")
    )["total"]
    return rules.budget_status(budget=budget, costs=[spent or Decimal(0)])


def care_expense_add(
    *, customer: Customer, recorded_by: User, **fields
) -> tuple[CareExpense, rules.BudgetStatus]:
    """Record a gift or event; return it with the year's budget status (over = a warning)."""
    require(permissions.can_keep_care(recorded_by, customer))
    with transaction.atomic():
        expense = CareExpense(customer=customer, recorded_by=recorded_by, **fields)
        expense.full_clean()
        expense.save()
        status = care_budget(customer, year=expense.date.year)
        if status.over:
            link = customer.get_absolute_url() + "?tab=visits"
            message = _(
                "Care spending on %(customer)s in %(year)d is %(spent)s, over the budget of "
                "%(budget)s."
            ) % {
                "customer": customer.name,
                "year": expense.date.year,
                "spent": status.spent,
                "budget": status.budget,
            }
            recipients = {customer.primary_manager, customer.department.head} - {None}
            notify_bulk(
                {
                    "recipient": user,
                    "message": message,
                    "link": link,
                    "dedup_key": f"care-budget:{customer.pk}:{expense.pk}",
                }
                for user in recipients
            )
    return expense, status


# --- Information feedback --------------------------------------------------------------------


def feedback_submit(
    *, customer: Customer, submitted_by: User, category: str, content: str
) -> InformationFeedback:
    """File information feedback (客户信息反馈); it counts on the customer's current tier."""
    require(permissions.can_file_feedback(submitted_by, customer))
    content = (content or "").strip()
    if not content:
        raise BusinessRuleError(_("Write what you learned."))
    if category not in FeedbackCategory.values:
        raise BusinessRuleError(_("Choose a category."))
    return InformationFeedback.objects.create(
        customer=customer,
        category=category,
        content=content,
        customer_tier=customer.tier,
        submitted_by=submitted_by,
    )


# --- Quarterly archive check -----------------------------------------------------------------


def archive_verify(*, customer: Customer, verified_by: User, note: str = "") -> ArchiveCheck:
    """Confirm the customer's archive is correct: recorded with who and when."""
    require(permissions.can_verify_archive(verified_by, customer))
    now = timezone.now()
    with transaction.atomic():
        check = ArchiveCheck.objects.create(
            customer=customer, verified_by=verified_by, verified_at=now, note=note.strip()
        )
        customer.last_verified_at = now
        customer._change_reason = _("Archive verified")
        customer.save(update_fields=["last_verified_at", "updated_at"])
    return check


def _quarter_start_datetime(day: date) -> datetime:
    start = rules.quarter_start(day)
    return timezone.make_aware(datetime(start.year, start.month, 1))


def archive_checks_pending(customers, *, today: date):
    """Filter active customers to those not verified this quarter, annotated overdue."""
    this_quarter = _quarter_start_datetime(today)
    last_quarter = _quarter_start_datetime(rules.quarter_start(today) - timedelta(days=1))
    checked = Coalesce("last_verified_at", "created_at")
    return customers.filter(status=CustomerStatus.ACTIVE).annotate(checked=checked).filter(
        checked__lt=this_quarter
    ), last_quarter


ARCHIVE_REMIND_DAYS_BEFORE_QUARTER_END = 14


def archive_check_remind(*, today: date | None = None) -> dict[str, int]:
    """Remind managers of their customers' archive checks: overdue ones (previous quarter missed)
    always, this quarter's in its last two weeks. One digest per manager per ISO week."""
    today = today or timezone.localdate()
    pending, last_quarter = archive_checks_pending(Customer.objects.all(), today=today)
    pending = pending.filter(primary_manager__isnull=False, primary_manager__is_active=True)
    closing = rules.quarter_end(today) - today <= timedelta(
        days=ARCHIVE_REMIND_DAYS_BEFORE_QUARTER_END
    )
    if not closing:
        pending = pending.filter(checked__lt=last_quarter)
    counts = list(
        pending.values("primary_manager")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(checked__lt=last_quarter)))
        .order_by()
    )
    if not counts:
        return {"reminded": 0}
    managers = User.objects.in_bulk([row["primary_manager"] for row in counts])
    year, week, _weekday = today.isocalendar()
    with transaction.atomic():
        serialize_job("archive_check_remind")
        sent = notify_bulk(
            {
                "recipient": managers[row["primary_manager"]],
                "message": _(
                    "%(count)d of your customers need their quarterly archive check "
                    "(%(overdue)d overdue)."
                )
                % {"count": row["n"], "overdue": row["overdue"]},
                "link": reverse("visits:archive_checks"),
                "dedup_key": f"archive-check:{row['primary_manager']}:{year}-W{week:02d}",
            }
            for row in counts
        )
    return {"reminded": len(sent)}


# --- The daily job ---------------------------------------------------------------------------


def visits_daily_run(*, today: date | None = None) -> dict[str, dict]:
    """The daily job: visit reminders, care tasks of the coming week, archive-check reminders."""
    today = today or timezone.localdate()
    return {
        "reminders": visit_reminders_send(today=today),
        "care": care_tasks_generate(today=today),
        "archive": archive_check_remind(today=today),
    }
