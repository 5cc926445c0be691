"""Demo complaints: a handful per department, in various states, made through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Customer, CustomerStatus

from . import services
from .models import Status

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
    now = timezone.now()
    made = 0
    for code in context.departments:
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
    context.stdout.write(f"Complaints: {made} demo complaints; deadline job: {summary}.")
