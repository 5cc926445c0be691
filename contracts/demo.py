"""Demo contracts: a handful per department, in every state, made through the services."""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal

from django.core.files.base import ContentFile

from accounts.models import Customer, CustomerStatus

from . import services
from .models import StepStatus

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TITLES = ["年度供货合同", "设备采购合同", "技术服务合同", "框架合作协议", "运维服务合同"]
# (state, amount, discount %, days from today to start, days from today to end)
PLAN = [
    ("draft", "380000", "5", 10, 375),
    ("pending", "260000", "0", 5, 370),
    ("pending_finance", "1200000", "8", 15, 380),
    ("rejected", "2300000", "12", 20, 385),
    ("approved", "750000", "3", 30, 395),
    ("active_ending", "520000", "0", -340, 25),
    ("active", "1800000", "6", -60, 305),
    ("expired", "430000", "0", -400, -10),
    ("terminated", "610000", "0", -100, 265),
    ("awaiting_filing", "6200000", "5", 20, 750),
]


def _step(contract):
    return contract.steps.get(status=StepStatus.PENDING)


def _approve_all(contract, deciders):
    while contract.steps.filter(status=StepStatus.PENDING).exists():
        step = _step(contract)
        services.step_decide(step=step, decided_by=deciders[step.decider_role], approve=True)


def seed(context) -> None:
    users = context.users
    if not context.customer_ids or "finance" not in users or "gm" not in users:
        return
    rng, today = context.rng, context.today
    made = 0
    for code in context.departments:
        head = users.get(f"head_{code}")
        if head is None:
            continue
        deciders = {"department_head": head, "finance": users["finance"], "executive": users["gm"]}
        candidates = Customer.objects.filter(
            pk__in=context.customer_ids[:2000],
            department__code=code,
            status=CustomerStatus.ACTIVE,
            primary_manager__isnull=False,
        ).select_related("primary_manager")
        customers = list(candidates.exclude(tier="A").order_by("pk")[: len(PLAN) - 1])
        customers += list(candidates.filter(tier="A").order_by("pk")[:1]) or customers[:1]
        for (state, amount, discount, start, end), customer in zip(PLAN, customers, strict=False):
            if state == "awaiting_filing" and customer.tier != "A":
                state = "active"
            owner = customer.primary_manager
            contract = services.contract_create(
                customer=customer,
                created_by=owner,
                title=rng.choice(TITLES),
                amount=Decimal(amount),
                discount_percent=Decimal(discount),
                start_date=today + datetime.timedelta(days=start),
                end_date=today + datetime.timedelta(days=end),
                payment_terms="预付30%，验收后60天内付清余款",
            )
            made += 1
            set_demo_plan(contract)  # receivables: the plan is drafted with the contract
            if state == "draft":
                continue
            services.contract_submit(contract=contract, submitted_by=owner)
            if state == "pending":
                continue
            if state == "pending_finance":
                services.step_decide(step=_step(contract), decided_by=head, approve=True)
                continue
            if state == "rejected":
                services.step_decide(step=_step(contract), decided_by=head, approve=True)
                services.step_decide(
                    step=_step(contract),
                    decided_by=users["finance"],
                    approve=False,
                    comment="折扣超过10%，请补充利润测算后再提交。",
                )
                continue
            _approve_all(contract, deciders)
            if state == "approved":
                continue
            services.contract_mark_signed(
                contract=contract,
                signed_by=owner,
                signed_scan=ContentFile(PDF, name=f"{contract.number}-signed.pdf"),
                signed_on=today + datetime.timedelta(days=min(start, 0)),
            )
            contract.refresh_from_db()
            if state == "awaiting_filing":
                continue
            if contract.needs_filing:
                services.contract_file(contract=contract, filed_by=users["finance"])
            if state == "terminated":
                services.contract_terminate(
                    contract=contract, terminated_by=head, reason="客户业务调整，双方协商解除。"
                )
    services.contracts_expire(today=today)
    context.stdout.write(f"Contracts: {made} demo contracts.")
    seed_receivables(context)


# Instalments as (share of the amount, position in the term from 0 to 1).
PLAN_SHAPE = [(Decimal("0.3"), 0.0), (Decimal("0.4"), 0.4), (Decimal("0.3"), 0.8)]


def seed_receivables(context) -> None:
    """Payment plans on the demo contracts, collections on those in force (some late, some
    partial, some not yet confirmed by finance) and the deliveries of paid instalments."""
    from accounts.errors import BusinessRuleError
    from accounts.services import transaction_add

    from .models import Contract, ContractStatus

    finance, today, rng = context.users.get("finance"), context.today, context.rng
    if finance is None:
        return
    collections = 0
    contracts = Contract.objects.filter(
        status__in=[ContractStatus.ACTIVE, ContractStatus.EXPIRED]
    ).select_related("owner", "customer")
    for contract in contracts.order_by("pk"):
        for instalment in contract.instalments.order_by("sequence"):
            if instalment.due_date > today:
                break
            late = rng.choice([0, 0, 0, 5, 20, 45])
            received = min(instalment.due_date + datetime.timedelta(days=late), today)
            share = rng.choice([Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0.5"), 0])
            if not share:
                continue  # unpaid: shows as overdue
            collection = services.collection_record(
                contract=contract,
                recorded_by=contract.owner,
                received_on=received,
                amount=(instalment.amount * share).quantize(Decimal("0.01")),
                method="bank_transfer",
                reference=f"BK{rng.randint(10**8, 10**9 - 1)}",
            )
            collections += 1
            if rng.random() < 0.85:
                services.collection_confirm(collection=collection, confirmed_by=finance)
            # A prepaid customer's instalment not yet confirmed is not delivered (refused).
            with contextlib.suppress(BusinessRuleError):
                transaction_add(
                    customer=contract.customer,
                    added_by=contract.owner,
                    date=min(instalment.due_date, today),
                    amount=instalment.amount,
                    reference=instalment.code,
                )
    context.stdout.write(f"Receivables: {collections} demo collections.")


def set_demo_plan(contract) -> None:
    term = (contract.end_date - contract.start_date).days
    amounts = [(contract.amount * share).quantize(Decimal("0.01")) for share, _ in PLAN_SHAPE]
    amounts[-1] = contract.amount - sum(amounts[:-1])
    rows = [
        {
            "due_date": contract.start_date + datetime.timedelta(days=int(term * position)),
            "amount": amount,
        }
        for (_share, position), amount in zip(PLAN_SHAPE, amounts, strict=True)
    ]
    services.plan_set(contract=contract, set_by=contract.owner, instalments=rows)
