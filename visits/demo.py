"""Demo data for visits: plans for every demo customer, visit records and feedback."""

from __future__ import annotations

import datetime
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Customer, CustomerStatus, Tier, User
from accounts.permissions import Role
from tiers.models import TierPolicy

from . import rules
from .models import (
    FeedbackCategory,
    InformationFeedback,
    PlannedVisit,
    VisitKind,
    VisitRecord,
    VisitStatus,
)
from .services import visit_plan_regenerate

PURPOSES = ["季度业务回顾", "新产品介绍", "合同续签沟通", "售后服务回访", "年度合作规划"]
SUMMARIES = [
    "客户对交付质量满意，提出下季度增加采购量的意向。",
    "介绍了新一代产品方案，客户技术部门将评估。",
    "讨论了付款周期，客户希望延长至60天。",
    "回访上月投诉处理情况，客户确认问题已解决。",
]


def seed(context) -> None:
    """Record visits, then plan every active customer's next one (set-based)."""
    if context.with_history:
        records, feedback = _year_of_visits(context)
    else:
        records, feedback = _some_visits(context)
    result = visit_plan_regenerate()
    context.stdout.write(
        f"Visits: {records} records, {feedback} feedback, {result['created']} planned visits."
    )


def _some_visits(context) -> tuple[int, int]:
    """Record visits for a share of the active demo customers."""
    rng, today = context.rng, context.today
    customers = list(
        Customer.objects.filter(pk__in=context.customer_ids, status=CustomerStatus.ACTIVE)
        .exclude(primary_manager__isnull=True)
        .values_list("pk", "primary_manager_id", "tier")
    )
    # Most customers were visited; at most a few thousand records, whatever --customers says.
    sample = customers[: min(len(customers) * 4 // 5, 3000)]
    colleagues = [
        user
        for user in context.users.values()
        if user.groups.filter(name=Role.ACCOUNT_MANAGER).exists()
    ]
    records, owners = [], []
    for pk, manager_id, tier in sample:
        interval = {Tier.A: 30, Tier.B: 60, Tier.C: 90}.get(tier, 180)
        # Some customers were visited recently, some are now overdue.
        days_ago = rng.randint(5, interval + 20)
        records.append(
            VisitRecord(
                customer_id=pk,
                date=today - timedelta(days=days_ago),
                kind=rng.choice(VisitKind.values),
                purpose=rng.choice(PURPOSES),
                summary=rng.choice(SUMMARIES),
                satisfaction=rng.randint(3, 5),
                recorded_by_id=manager_id,
            )
        )
        owners.append(manager_id)
    VisitRecord.objects.bulk_create(records, batch_size=2000)
    through = VisitRecord.participants.through
    links = []
    for record, manager_id in zip(records, owners, strict=True):
        links.append(through(visitrecord_id=record.pk, user_id=manager_id))
        colleague = rng.choice(colleagues) if colleagues else None
        if colleague and colleague.pk != manager_id:
            links.append(through(visitrecord_id=record.pk, user_id=colleague.pk))
    through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
    feedback = [
        InformationFeedback(
            customer_id=pk,
            category=rng.choice(FeedbackCategory.values),
            content=rng.choice(SUMMARIES),
            customer_tier=tier,
            submitted_by_id=manager_id,
        )
        for pk, manager_id, tier in customers[: min(len(customers), 40)]
    ]
    InformationFeedback.objects.bulk_create(feedback)
    return len(records), len(feedback)


def _year_of_visits(context) -> tuple[int, int]:
    """A year of visits at each tier's rhythm: the planned visits they completed, their records
    (the first one of each customer with two staff, as the first-visit rule asks) and the
    information feedback some of them brought back. Inserted set-based."""
    from accounts.management.commands.seed_demo import fast_insert, next_ids, reset_sequences

    rng, today = context.rng, context.today
    tz = ZoneInfo(settings.TIME_ZONE)
    policy_days = dict(TierPolicy.objects.values_list("tier", "visit_interval_days"))
    colleagues = defaultdict(list)
    managers = User.objects.filter(groups__name=Role.ACCOUNT_MANAGER, department__isnull=False)
    for pk, department_id in managers.values_list("pk", "department_id"):
        colleagues[department_id].append(pk)
    customers = (
        Customer.objects.filter(pk__in=context.customer_ids, status=CustomerStatus.ACTIVE)
        .exclude(primary_manager__isnull=True)
        .values_list("pk", "primary_manager_id", "assistant_manager_id", "department_id", "tier")
        .order_by("pk")
    )
    visits = []  # (customer, date, manager, second participant or None, tier)
    for pk, manager_id, assistant_id, department_id, tier in customers.iterator(chunk_size=5000):
        interval = rules.interval_days(tier, policy_days)
        day = today - timedelta(days=365 - rng.randrange(interval))
        first = True
        while day < today:
            second = None
            if first or rng.random() < 0.25:
                team = colleagues[department_id]
                second = assistant_id or rng.choice(team)
                if second == manager_id:
                    second = next((u for u in team if u != manager_id), None)
            visits.append((pk, day, manager_id, second, tier))
            first = False
            day += timedelta(days=max(1, interval + rng.randint(-7, 7)))
    record_ids = next_ids(VisitRecord, len(visits))
    plan_ids = next_ids(PlannedVisit, len(visits))
    feedback_ids = iter(next_ids(InformationFeedback, len(visits)))
    records, plans, participants, feedback = [], [], [], []
    evenings = {}
    for (pk, day, manager_id, second, tier), record_id, plan_id in zip(
        visits, record_ids, plan_ids, strict=True
    ):
        at = evenings.get(day)
        if at is None:
            at = evenings[day] = datetime.datetime.combine(day, datetime.time(18), tzinfo=tz)
        records.append(
            (
                record_id, pk, day, rng.choice(VisitKind.values), rng.choice(PURPOSES),
                rng.choice(SUMMARIES), "", "", "", rng.randint(3, 5), manager_id, at,
            )
        )  # fmt: skip
        due = day + timedelta(days=rng.randint(-3, 5))
        plans.append(
            (
                plan_id, pk, due, manager_id, VisitStatus.COMPLETED, False, "", record_id,
                manager_id, at, at - timedelta(days=30),
            )
        )  # fmt: skip
        participants.append((record_id, manager_id))
        if second is not None:
            participants.append((record_id, second))
        if rng.random() < 0.1:
            feedback.append(
                (
                    next(feedback_ids), pk, rng.choice(FeedbackCategory.values),
                    rng.choice(SUMMARIES), tier, manager_id, at,
                )
            )  # fmt: skip
    fast_insert(
        VisitRecord,
        ["id", "customer_id", "date", "kind", "purpose", "summary", "customer_needs",
         "competitor_info", "next_steps", "satisfaction", "recorded_by_id", "created_at"],
        records,
    )  # fmt: skip
    fast_insert(
        PlannedVisit,
        ["id", "customer_id", "due_date", "assigned_to_id", "status", "date_fixed", "reason",
         "completed_by_record_id", "closed_by_id", "closed_at", "created_at"],
        plans,
    )  # fmt: skip
    fast_insert(VisitRecord.participants.through, ["visitrecord_id", "user_id"], participants)
    fast_insert(
        InformationFeedback,
        ["id", "customer_id", "category", "content", "customer_tier", "submitted_by_id",
         "submitted_at"],
        feedback,
    )  # fmt: skip
    reset_sequences(VisitRecord, PlannedVisit, InformationFeedback)
    return len(records), len(feedback)
