"""Demo contracts: a handful per department, in every state, made through the services."""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import Customer, CustomerStatus, Department

from . import services
from .models import (
    ApprovalRound,
    ApprovalStep,
    Collection,
    CollectionAllocation,
    Contract,
    ContractNumberCounter,
    ContractStatus,
    DeciderRole,
    PaymentInstalment,
    RoundOutcome,
    StepStatus,
)
from .rules import required_steps

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
    history = _year_of_contracts(context) if context.with_history else 0
    made = 0
    made_ids = []
    for code in context.named_departments:
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
            made_ids.append(contract.pk)
            set_demo_plan(contract)  # the plan is drafted with the contract
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
    context.stdout.write(f"Contracts: {history} over the year, {made} demo contracts.")
    seed_receivables(context, contract_ids=made_ids)


# Instalments as (share of the amount, position in the term from 0 to 1).
PLAN_SHAPE = [(Decimal("0.3"), 0.0), (Decimal("0.4"), 0.4), (Decimal("0.3"), 0.8)]


def seed_receivables(context, *, contract_ids: list[int]) -> None:
    """Collections on these demo contracts in force (some late, some partial, some not yet
    confirmed by finance) and the deliveries of paid instalments, through the services."""
    from accounts.errors import BusinessRuleError
    from accounts.services import transaction_add

    finance, today, rng = context.users.get("finance"), context.today, context.rng
    if finance is None:
        return
    collections = 0
    contracts = Contract.objects.filter(
        pk__in=contract_ids, status__in=[ContractStatus.ACTIVE, ContractStatus.EXPIRED]
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


# Contracts drafted in a year, as a share of the customers; numbers stay four digits a year.
YEARLY_SHARE = 0.05
MOST_A_YEAR = 9000
SIZES = [80_000, 250_000, 600_000, 1_500_000, 4_000_000]
DISCOUNTS = ["0", "0", "0", "2", "3", "5", "8", "12"]


def _lifecycle(rng, drafted, steps, needs_filing):
    """Return the contract's events as (at, what, values) from drafting to expiry; the caller
    keeps those that already happened."""
    events = []
    at = drafted + datetime.timedelta(hours=rng.randint(2, 72))
    rounds = 1 + (rng.random() < 0.05)
    for number in range(1, rounds + 1):
        events.append((at, "submit", number))
        for order, condition in enumerate(steps, start=1):
            at += datetime.timedelta(hours=rng.randint(3, 60))
            rejected = number < rounds and order == len(steps)
            events.append((at, "reject" if rejected else "approve", (number, order, condition)))
        at += datetime.timedelta(days=rng.randint(2, 6))
    at += datetime.timedelta(days=rng.randint(1, 10))
    events.append((at, "sign", None))
    if needs_filing:
        at += datetime.timedelta(days=rng.randint(1, 5))
        events.append((at, "file", None))
    if rng.random() < 0.03:
        at += datetime.timedelta(days=rng.randint(30, 200))
        events.append((at, "terminate", None))
    return events


def _year_of_contracts(context) -> int:
    """A year of contracts from a share of the customers, each at the state its age gives it:
    approval rounds and steps as the rules in force ask, signing, filing (备案) for A-tier
    customers, expiry and some terminations; payment plans with collections on those in
    force. Gap-free HT-YYYY-NNNN numbers continue the year's counter. Set-based."""
    from accounts.management.commands.seed_demo import fast_insert, next_ids, reset_sequences

    rng, now, today = context.rng, timezone.now(), context.today
    users = context.users
    finance, executive = users["finance"].pk, users["gm"].pk
    heads = dict(Department.objects.values_list("pk", "head_id"))
    rules = services.active_rule_conditions()
    customers = list(
        Customer.objects.filter(
            pk__in=context.customer_ids,
            status=CustomerStatus.ACTIVE,
            primary_manager__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "primary_manager_id", "department_id", "tier")
    )
    count = min(int(len(context.customer_ids) * YEARLY_SHARE), MOST_A_YEAR, len(customers))
    drafts = sorted(
        (now - datetime.timedelta(minutes=rng.randint(60, 400 * 24 * 60)), *customer)
        for customer in rng.sample(customers, k=count)
    )
    scan = default_storage.save("contracts/demo/signed-scan.pdf", ContentFile(PDF))
    counters = dict(ContractNumberCounter.objects.values_list("year", "value"))
    contracts, rounds, steps, instalments = [], [], [], []
    collections, allocations = [], []
    round_ids = iter(next_ids(ApprovalRound, count * 2))
    instalment_ids = iter(next_ids(PaymentInstalment, count * len(PLAN_SHAPE)))
    collection_ids = iter(next_ids(Collection, count * len(PLAN_SHAPE)))
    for (drafted, customer_id, owner, department, tier), contract_id in zip(
        drafts, next_ids(Contract, count), strict=True
    ):
        year = timezone.localtime(drafted).year
        counters[year] = counters.get(year, 0) + 1
        number = f"HT-{year}-{counters[year]:04d}"
        amount = Decimal(int(rng.choice(SIZES) * rng.uniform(0.5, 1.5)) // 1000 * 1000)
        discount = Decimal(rng.choice(DISCOUNTS))
        start = timezone.localtime(drafted).date() + datetime.timedelta(days=rng.randint(5, 30))
        end = start + datetime.timedelta(days=rng.choice([364, 364, 364, 729]))
        needed = required_steps(rules, amount=amount, discount=discount, tier=tier)
        head = heads[department]
        deciders = {
            DeciderRole.DEPARTMENT_HEAD: head,
            DeciderRole.FINANCE: finance,
            DeciderRole.EXECUTIVE: executive,
        }
        row = {
            "status": ContractStatus.DRAFT, "text_document": "", "rejection_comment": "",
            "submitted_at": None,
            "approved_at": None, "signed_scan": "", "signed_on": None, "signed_by_id": None,
            "filed_on": None, "filed_by_id": None, "filing_reference": "",
            "activated_at": None, "expired_at": None, "terminated_at": None,
            "terminated_by_id": None, "terminated_reason": "",
        }  # fmt: skip
        updated = drafted
        open_round = None
        # Without an applying rule a contract cannot be submitted: it stays a draft.
        lifecycle = _lifecycle(rng, drafted, needed, tier == "A") if needed else []
        for at, what, values in lifecycle:
            if at > now:
                break
            updated = at
            if what == "submit":
                open_round = [next(round_ids), contract_id, values, owner, at, amount, discount,
                              tier, RoundOutcome.PENDING, None]  # fmt: skip
                rounds.append(open_round)
                first_step = len(steps)
                for order, condition in enumerate(needed, start=1):
                    steps.append(
                        [open_round[0], contract_id, order, condition.rule_id, condition.name,
                         condition.decider_role, department,
                         StepStatus.PENDING if order == 1 else StepStatus.WAITING, None, None,
                         ""]
                    )  # fmt: skip
                row["status"], row["submitted_at"] = ContractStatus.PENDING, at
            elif what in ("approve", "reject"):
                _number, order, condition = values
                step = steps[first_step + order - 1]
                step[8], step[9] = deciders[condition.decider_role], at
                if what == "reject":
                    comment = "折扣超过10%，请补充利润测算后再提交。"
                    step[7], step[10] = StepStatus.REJECTED, comment
                    for later in steps[first_step + order :]:
                        later[7] = StepStatus.CANCELLED
                    open_round[8:10] = [RoundOutcome.REJECTED, at]
                    row["status"], row["rejection_comment"] = ContractStatus.DRAFT, comment
                    continue
                step[7] = StepStatus.APPROVED
                if order < len(needed):
                    steps[first_step + order][7] = StepStatus.PENDING
                    continue
                open_round[8:10] = [RoundOutcome.APPROVED, at]
                row["status"], row["approved_at"] = ContractStatus.APPROVED, at
            elif what == "sign":
                row.update(
                    status=ContractStatus.SIGNED, signed_scan=scan, signed_by_id=owner,
                    signed_on=timezone.localtime(at).date(),
                )  # fmt: skip
                if tier != "A":
                    row.update(status=ContractStatus.ACTIVE, activated_at=at)
            elif what == "file":
                row.update(
                    status=ContractStatus.ACTIVE, filed_on=timezone.localtime(at).date(),
                    filed_by_id=finance, filing_reference=f"BA{year}{contract_id:06d}",
                    activated_at=at,
                )  # fmt: skip
            elif what == "terminate" and row["status"] == ContractStatus.ACTIVE:
                row.update(
                    status=ContractStatus.TERMINATED, terminated_at=at, terminated_by_id=head,
                    terminated_reason="客户业务调整，双方协商解除。",
                )  # fmt: skip
        if row["status"] == ContractStatus.ACTIVE and end < today:
            # The daily job expires a contract the day after its last day.
            expired = timezone.make_aware(
                datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(6, 45))
            )
            row.update(status=ContractStatus.EXPIRED, expired_at=expired)
            updated = expired
        contracts.append(
            (contract_id, number, customer_id, department, rng.choice(TITLES), amount, start, end,
             "预付30%，验收后60天内付清余款", discount, owner, owner, drafted, updated,
             *row.values())
        )  # fmt: skip
        in_force = row["status"] in (ContractStatus.ACTIVE, ContractStatus.EXPIRED)
        _plan_and_collections(
            rng, today, contract_id, amount, start, end, owner, finance, in_force,
            instalment_ids, collection_ids, instalments, collections, allocations,
        )  # fmt: skip
    fast_insert(
        Contract,
        ["id", "number", "customer_id", "department_id", "title", "amount", "start_date",
         "end_date", "payment_terms", "discount_percent", "owner_id", "created_by_id",
         "created_at", "updated_at", *row],
        contracts,
    )  # fmt: skip
    fast_insert(
        ApprovalRound,
        ["id", "contract_id", "number", "submitted_by_id", "submitted_at", "amount",
         "discount_percent", "customer_tier", "outcome", "closed_at"],
        [tuple(r) for r in rounds],
    )  # fmt: skip
    fast_insert(
        ApprovalStep,
        ["round_id", "contract_id", "order", "rule_id", "name", "decider_role", "department_id",
         "status", "decided_by_id", "decided_at", "comment"],
        [tuple(s) for s in steps],
    )  # fmt: skip
    fast_insert(
        PaymentInstalment, ["id", "contract_id", "sequence", "due_date", "amount", "note"],
        instalments,
    )  # fmt: skip
    fast_insert(
        Collection,
        ["id", "contract_id", "received_on", "amount", "method", "reference", "note",
         "recorded_by_id", "recorded_at", "confirmed_by_id", "confirmed_at"],
        collections,
    )  # fmt: skip
    fast_insert(CollectionAllocation, ["collection_id", "instalment_id", "amount"], allocations)
    for year, value in counters.items():
        ContractNumberCounter.objects.update_or_create(year=year, defaults={"value": value})
    reset_sequences(Contract, ApprovalRound, PaymentInstalment, Collection)
    return len(contracts)


def _plan_and_collections(
    rng, today, contract_id, amount, start, end, owner, finance, in_force,
    instalment_ids, collection_ids, instalments, collections, allocations,
) -> None:  # fmt: skip
    """The payment plan drafted with the contract; on a contract in force, the money received
    for the instalments due so far (some late, some partial, some not yet confirmed)."""
    term = (end - start).days
    amounts = [(amount * share).quantize(Decimal("0.01")) for share, _position in PLAN_SHAPE]
    amounts[-1] = amount - sum(amounts[:-1])
    shape = zip(PLAN_SHAPE, amounts, strict=True)
    for sequence, ((_share, position), part) in enumerate(shape, start=1):
        due = start + datetime.timedelta(days=int(term * position))
        instalment_id = next(instalment_ids)
        instalments.append((instalment_id, contract_id, sequence, due, part, ""))
        if not in_force or due > today:
            continue
        share = rng.choice([Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0.5"), 0])
        if not share:
            continue  # unpaid: shows as overdue
        received = min(due + datetime.timedelta(days=rng.choice([0, 0, 0, 5, 20, 45])), today)
        recorded = timezone.make_aware(datetime.datetime.combine(received, datetime.time(15)))
        paid = (part * share).quantize(Decimal("0.01"))
        confirmed = rng.random() < 0.85
        collection_id = next(collection_ids)
        collections.append(
            (collection_id, contract_id, received, paid, "bank_transfer",
             f"BK{rng.randint(10**8, 10**9 - 1)}", "", owner, recorded,
             finance if confirmed else None,
             recorded + datetime.timedelta(hours=20) if confirmed else None)
        )  # fmt: skip
        allocations.append((collection_id, instalment_id, paid))
