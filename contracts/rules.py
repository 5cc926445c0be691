"""Which approval steps a contract needs: a pure function over plain values (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class RuleCondition:
    """One approval rule as plain values; the model ApprovalRule converts itself to this.

    A rule applies when it is `always`, or when ANY of its set conditions holds (OR): the
    amount reaches min_amount, the discount reaches min_discount, or the customer's tier is
    one of customer_tiers. Unset conditions (None / empty) never match on their own.
    """

    order: int
    decider_role: str
    always: bool = False
    min_amount: Decimal | None = None
    min_discount: Decimal | None = None
    customer_tiers: frozenset[str] = field(default_factory=frozenset)
    over_credit_limit: bool = False
    name: str = ""
    rule_id: int | None = None

    def applies(
        self, *, amount: Decimal, discount: Decimal, tier: str, over_credit_limit: bool = False
    ) -> bool:
        if self.always:
            return True
        if self.over_credit_limit and over_credit_limit:
            return True
        if self.min_amount is not None and amount >= self.min_amount:
            return True
        if self.min_discount is not None and discount >= self.min_discount:
            return True
        return bool(tier) and tier in self.customer_tiers


def parse_tiers(text: str) -> frozenset[str]:
    """Return the tiers in a comma- or space-separated list such as "A, B"."""
    return frozenset(part.strip().upper() for part in text.replace(",", " ").split() if part)


def required_steps(
    rules: Iterable[RuleCondition],
    *,
    amount: Decimal,
    discount: Decimal,
    tier: str,
    over_credit_limit: bool = False,
) -> list[RuleCondition]:
    """Return the rules that apply to a contract, in approval order.

    Two applying rules of the same role and order (finance for the amount and finance for the
    credit limit) give one step: the same person would otherwise sign twice.
    """
    amount, discount = Decimal(amount), Decimal(discount)
    applying = sorted(
        (
            rule
            for rule in rules
            if rule.applies(
                amount=amount, discount=discount, tier=tier, over_credit_limit=over_credit_limit
            )
        ),
        key=lambda rule: (rule.order, rule.rule_id or 0),
    )
    steps, seen = [], set()
    for rule in applying:
        if (rule.order, rule.decider_role) in seen:
            continue
        seen.add((rule.order, rule.decider_role))
        steps.append(rule)
    return steps


# --- Receivables (回款): pure computations -------------------------------------------------

CENT = Decimal("0.01")
REMINDER_DAYS_BEFORE = 7
AGEING_LIMITS = ((30, "0-30"), (60, "31-60"), (90, "61-90"))


def plan_mismatch(contract_amount: Decimal, amounts: Iterable[Decimal]) -> Decimal:
    """Return how much the instalments differ from the contract amount (0 when they add up)."""
    return sum((Decimal(a) for a in amounts), Decimal("0")) - Decimal(contract_amount)


def allocate_in_order(
    amount: Decimal, open_balances: Iterable[tuple[int, Decimal]]
) -> tuple[list[tuple[int, Decimal]], Decimal]:
    """Spread a payment over open instalments in the given (due date) order.

    Return the allocations (instalment id, amount) and what is left over.
    """
    left = Decimal(amount)
    allocations = []
    for instalment_id, open_amount in open_balances:
        if left <= 0:
            break
        if open_amount <= 0:
            continue
        share = min(left, Decimal(open_amount))
        allocations.append((instalment_id, share))
        left -= share
    return allocations, left


def ageing_bucket(days_overdue: int) -> str | None:
    """Return the ageing bucket of an unpaid instalment, None when not overdue."""
    if days_overdue <= 0:
        return None
    for limit, bucket in AGEING_LIMITS:
        if days_overdue <= limit:
            return bucket
    return "90+"


def due_reminder(days_left: int) -> int | None:
    """Return which due reminder (7 days before, or on the day: 0) is due, or None.

    A job that missed a day still sends the 7-day reminder once during the last week.
    """
    if days_left == 0:
        return 0
    if 0 < days_left <= REMINDER_DAYS_BEFORE:
        return REMINDER_DAYS_BEFORE
    return None


def over_credit_limit(
    *, credit_terms: str, credit_limit: Decimal, open_receivables: Decimal, amount: Decimal
) -> bool:
    """A credit customer goes over the limit when open receivables plus the amount exceed it."""
    if credit_terms != "credit":
        return False
    return Decimal(open_receivables) + Decimal(amount) > Decimal(credit_limit)


def on_time_share(facts: Iterable[tuple[date, date | None]], *, start: date, end: date):
    """payment_record per DESIGN: share (%) of items due in [start, end] paid on or before
    their due date; unpaid counts as late. None when nothing is due."""
    due = on_time = 0
    for due_date, paid_on in facts:
        if due_date is not None and start <= due_date <= end:
            due += 1
            if paid_on is not None and paid_on <= due_date:
                on_time += 1
    if not due:
        return None
    return Decimal(on_time) * 100 / Decimal(due)
