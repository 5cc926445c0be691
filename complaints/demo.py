"""Demo complaints: a handful per department, in various states, made through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Contact, Customer, CustomerStatus, Department
from tiers.models import TierPolicy

from . import deadlines, services
from .models import (
    Complaint,
    ComplaintEvent,
    ComplaintNote,
    EventKind,
    ReferenceCounter,
    Severity,
    Status,
)

# Complaints a year, as a share of the customers.
YEARLY_SHARE = 0.03

DESCRIPTIONS = [
    ("product_quality", "部分批次产品外观划伤，客户要求更换。"),
    ("delivery", "订单交货延迟五天，影响客户产线排程。"),
    ("service", "售后工程师未按约定时间到场。"),
    ("billing", "发票金额与合同约定单价不一致。"),
    ("other", "客户对近期价格调整通知方式不满。"),
]
# (final state, severity, hours ago received). The demo acts now, so complaints handled
# here were received recently enough to be acknowledged in time.
PLAN = [
    ("new", "medium", 1),
    ("breached_new", "high", 30),
    ("in_progress", "high", 1),
    ("escalated", "critical", 1),
    ("resolved", "medium", 1),
    ("reopened", "low", 1),
    ("closed", "low", 24 * 40),
]


def _go(complaint, by, *steps):
    for to_status, extra in steps:
        if to_status in (Status.CONFIRMED, Status.REOPENED):
            services.complaint_confirm(complaint=complaint, by=by, **extra)
        else:
            services.complaint_transition(complaint=complaint, to_status=to_status, by=by, **extra)


def seed(context) -> None:
    rng = context.rng
    admin = context.users.get("admin")
    if admin is None or not context.customer_ids:
        return
    history = _year_of_complaints(context) if context.with_history else 0
    now = timezone.now()
    made = 0
    for code in context.named_departments:
        customers = list(
            Customer.objects.filter(
                pk__in=context.customer_ids[:2000],
                department__code=code,
                status=CustomerStatus.ACTIVE,
                primary_manager__isnull=False,
            ).order_by("pk")[: len(PLAN)]
        )
        for (state, severity, hours), customer in zip(PLAN, customers, strict=False):
            category, text = rng.choice(DESCRIPTIONS)
            complaint = services.complaint_create(
                created_by=customer.primary_manager,
                customer=customer,
                contact=customer.contacts.first(),
                channel=rng.choice(["phone", "email", "visit", "letter", "online"]),
                category=category,
                severity=severity,
                description=text,
                received_at=now - timedelta(hours=hours),
            )
            made += 1
            by = customer.primary_manager
            ack = (Status.ACKNOWLEDGED, {"comment": "已联系客户确认情况"})
            work = (Status.IN_PROGRESS, {"comment": "已安排处理"})
            fixed = (Status.RESOLVED, {"comment": "已更换问题批次并补偿运费"})
            if state in ("new", "breached_new"):
                continue
            if state == "escalated":
                _go(
                    complaint,
                    by,
                    ack,
                    (Status.ESCALATED, {"comment": "超出本人权限，请部门经理协调"}),
                )
            elif state == "in_progress":
                _go(complaint, by, ack, work)
            elif state == "resolved":
                _go(complaint, by, ack, work, fixed)
            elif state == "reopened":
                unhappy = (Status.REOPENED, {"satisfaction": 2, "comment": "客户认为补偿不足"})
                _go(complaint, by, ack, work, fixed, unhappy)
            elif state == "closed":
                happy = (Status.CONFIRMED, {"satisfaction": 5, "comment": "客户满意"})
                _go(complaint, by, ack, work, fixed, happy, (Status.CLOSED, {"comment": "结案"}))
    summary = services.complaint_check_deadlines()
    context.stdout.write(
        f"Complaints: {history} over the year, {made} demo complaints; deadline job: {summary}."
    )


def _lifecycle(rng, received, response_due, resolution_due, manager, head):
    """Return the complaint's steps (to status, at, actor, comment, satisfaction) from intake
    to closing; the caller keeps those that already happened."""
    steps = []
    at = received + (response_due - received) * rng.uniform(0.1, 1.15)
    steps.append((Status.ACKNOWLEDGED, at, manager, "已联系客户确认情况", None))
    at += timedelta(hours=rng.randint(1, 20))
    steps.append((Status.IN_PROGRESS, at, manager, "已安排处理", None))
    resolver = manager
    if rng.random() < 0.1:
        at += timedelta(hours=rng.randint(2, 30))
        steps.append((Status.ESCALATED, at, manager, "超出本人权限，请部门经理协调", None))
        resolver = head
    at = max(at, received + (resolution_due - received) * rng.uniform(0.3, 1.2))
    steps.append((Status.RESOLVED, at, resolver, "已更换问题批次并补偿运费", None))
    if rng.random() < 0.06:
        at += timedelta(days=rng.randint(1, 4))
        steps.append((Status.REOPENED, at, manager, "客户认为补偿不足", 2))
        at += timedelta(hours=rng.randint(2, 24))
        steps.append((Status.IN_PROGRESS, at, manager, "重新处理", None))
        at += timedelta(days=rng.randint(1, 5))
        steps.append((Status.RESOLVED, at, manager, "已补发货物", None))
    at += timedelta(days=rng.randint(1, 5))
    steps.append((Status.CONFIRMED, at, manager, "客户满意", rng.choice([3, 4, 4, 5, 5])))
    at += timedelta(days=rng.randint(3, 20))
    steps.append((Status.CLOSED, at, manager, "结案", None))
    return steps


def _year_of_complaints(context) -> int:
    """A year of complaints from a few percent of the customers, each at the state its age
    gives it, with its timeline, deadlines, breaches and gap-free references (set-based)."""
    from accounts.management.commands.seed_demo import fast_insert, next_ids, reset_sequences

    rng, now = context.rng, timezone.now()
    response_hours = dict(TierPolicy.objects.values_list("tier", "complaint_response_hours"))
    heads = dict(Department.objects.values_list("pk", "head_id"))
    customers = list(
        Customer.objects.filter(
            pk__in=context.customer_ids,
            status__in=[CustomerStatus.ACTIVE, CustomerStatus.DORMANT],
            primary_manager__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "primary_manager_id", "department_id", "tier")
    )
    chosen = rng.sample(customers, k=int(len(context.customer_ids) * YEARLY_SHARE))
    contacts = {}
    for start in range(0, len(chosen), 5000):
        ids = [row[0] for row in chosen[start : start + 5000]]
        contacts.update(
            Contact.objects.filter(customer_id__in=ids, is_primary=True).values_list(
                "customer_id", "pk"
            )
        )
    intakes = []
    for pk, manager, department, tier in chosen:
        received = now - timedelta(minutes=rng.randint(30, 365 * 24 * 60))
        registered = min(now, received + timedelta(minutes=rng.randint(5, 90)))
        intakes.append((registered, received, pk, manager, department, tier))
    intakes.sort()
    if not intakes:
        return 0
    # References are taken in order of registration, after any the year already has.
    counters = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    complaints, events, notes = [], [], []
    for (registered, received, pk, manager, department, tier), complaint_id in zip(
        intakes, next_ids(Complaint, len(intakes)), strict=True
    ):
        year = timezone.localtime(registered).year
        counters[year] = counters.get(year, 0) + 1
        severity = rng.choices(Severity.values, weights=[30, 40, 22, 8])[0]
        category, text = rng.choice(DESCRIPTIONS)
        hours = response_hours.get(tier or deadlines.UNGRADED_TIER)
        response_due = deadlines.response_due_at(received, hours)
        resolution_due = deadlines.resolution_due_at(received, severity)
        head = heads[department]
        steps = [
            step
            for step in _lifecycle(rng, registered, response_due, resolution_due, manager, head)
            if step[1] <= now
        ]
        row = {
            "status": Status.NEW, "acknowledged_at": None, "escalated_at": None,
            "escalated_to_id": None, "resolved_at": None, "confirmed_at": None,
            "closed_at": None, "response_breached_at": None, "resolution_breached_at": None,
            "satisfaction": None, "satisfaction_comment": "", "follow_up_due_on": None,
            "impact_eliminated_at": None, "impact_eliminated_by_id": None,
        }  # fmt: skip
        events.append(
            (complaint_id, EventKind.TRANSITION, manager, registered, "", Status.NEW,
             _("Complaint registered"), None)
        )  # fmt: skip
        for to_status, at, actor, comment, satisfaction in steps:
            events.append(
                (complaint_id, EventKind.TRANSITION, actor, at, row["status"], to_status,
                 comment, satisfaction)
            )  # fmt: skip
            if row["status"] == Status.NEW:
                row["acknowledged_at"] = at
                if at > response_due:
                    row["response_breached_at"] = at
            row["status"] = to_status
            if to_status == Status.ESCALATED:
                row["escalated_at"], row["escalated_to_id"] = at, head
            elif to_status == Status.RESOLVED:
                row["resolved_at"] = at
                if at > resolution_due and row["resolution_breached_at"] is None:
                    row["resolution_breached_at"] = at
                if row["follow_up_due_on"] is None:
                    resolved_on = timezone.localtime(at).date()
                    row["follow_up_due_on"] = deadlines.next_follow_up_due(resolved_on)
            elif to_status in (Status.CONFIRMED, Status.REOPENED):
                row["satisfaction"], row["satisfaction_comment"] = satisfaction, comment
                if to_status == Status.CONFIRMED:
                    row["confirmed_at"] = at
            elif to_status == Status.CLOSED:
                row["closed_at"] = at
                # Closed once the monthly follow-ups found the impact gone.
                row["impact_eliminated_at"], row["impact_eliminated_by_id"] = at, manager
                row["follow_up_due_on"] = None
                notes.append((complaint_id, manager, at, _("Impact marked eliminated.")))
        updated = steps[-1][1] if steps else registered
        complaints.append(
            (
                complaint_id, f"CP-{year}-{counters[year]:06d}", pk, contacts.get(pk),
                rng.choice(["phone", "email", "visit", "letter", "online"]), category, severity,
                text, received, manager, response_due, resolution_due, manager, registered,
                updated, *row.values(),
            )
        )  # fmt: skip
    fast_insert(
        Complaint,
        ["id", "reference", "customer_id", "contact_id", "channel", "category", "severity",
         "description", "received_at", "assignee_id", "response_due_at", "resolution_due_at",
         "created_by_id", "created_at", "updated_at", *row],
        complaints,
    )  # fmt: skip
    fast_insert(
        ComplaintEvent,
        ["complaint_id", "kind", "actor_id", "at", "from_status", "to_status", "comment",
         "satisfaction"],
        events,
    )  # fmt: skip
    fast_insert(ComplaintNote, ["complaint_id", "author_id", "created_at", "text"], notes)
    for year, last_number in counters.items():
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last_number": last_number})
    reset_sequences(Complaint)
    return len(complaints)
