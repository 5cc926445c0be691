"""Which approval steps a contract needs: a pure function over plain values (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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
    name: str = ""
    rule_id: int | None = None

    def applies(self, *, amount: Decimal, discount: Decimal, tier: str) -> bool:
        if self.always:
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
    rules: Iterable[RuleCondition], *, amount: Decimal, discount: Decimal, tier: str
) -> list[RuleCondition]:
    """Return the rules that apply to a contract, in approval order."""
    amount, discount = Decimal(amount), Decimal(discount)
    return sorted(
        (rule for rule in rules if rule.applies(amount=amount, discount=discount, tier=tier)),
        key=lambda rule: (rule.order, rule.rule_id or 0),
    )
