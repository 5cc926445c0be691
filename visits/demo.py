"""Demo data for visits: plans for every demo customer, some visit records and feedback."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Customer, CustomerStatus, Tier
from accounts.permissions import Role

from .models import FeedbackCategory, InformationFeedback, VisitKind, VisitRecord
from .services import visit_plan_regenerate

PURPOSES = ["季度业务回顾", "新产品介绍", "合同续签沟通", "售后服务回访", "年度合作规划"]
SUMMARIES = [
    "客户对交付质量满意，提出下季度增加采购量的意向。",
    "介绍了新一代产品方案，客户技术部门将评估。",
    "讨论了付款周期，客户希望延长至60天。",
    "回访上月投诉处理情况，客户确认问题已解决。",
]


def seed(context) -> None:
    """Record visits for a share of the active demo customers, then plan every one (set-based)."""
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
    result = visit_plan_regenerate()
    context.stdout.write(
        f"Visits: {len(records)} records, {len(feedback)} feedback, "
        f"{result['created']} planned visits."
    )
