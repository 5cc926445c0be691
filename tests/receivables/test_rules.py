"""The pure receivables computations, without a database."""

from __future__ import annotations

import datetime
from decimal import Decimal

from contracts.rules import (
    RuleCondition,
    allocate_in_order,
    due_reminder,
    on_time_share,
    over_credit_limit,
    plan_mismatch,
    required_steps,
)

D = datetime.date


def test_plan_mismatch_is_signed():
    assert plan_mismatch(Decimal("100"), [Decimal("60"), Decimal("40")]) == 0
    assert plan_mismatch(Decimal("100"), [Decimal("60")]) == Decimal("-40")
    assert plan_mismatch(Decimal("100"), [Decimal("60"), Decimal("60")]) == Decimal("20")


def test_allocation_fills_the_earliest_first_and_reports_the_excess():
    assert allocate_in_order(Decimal("150"), [(1, Decimal("100")), (2, Decimal("100"))]) == (
        [(1, Decimal("100")), (2, Decimal("50"))],
        Decimal("0"),
    )
    assert allocate_in_order(Decimal("50"), [(1, Decimal("0")), (2, Decimal("100"))]) == (
        [(2, Decimal("50"))],
        Decimal("0"),
    )
    assert allocate_in_order(Decimal("250"), [(1, Decimal("100"))])[1] == Decimal("150")


def test_due_reminders_at_seven_days_and_on_the_day():
    assert [due_reminder(days) for days in (9, 8, 7, 3, 1, 0, -1)] == [
        None,
        None,
        7,
        7,
        7,
        0,
        None,
    ]


def test_the_credit_limit_is_for_credit_customers_only():
    kwargs = {"credit_limit": Decimal("100"), "open_receivables": Decimal("60")}
    assert over_credit_limit(credit_terms="credit", amount=Decimal("41"), **kwargs)
    assert not over_credit_limit(credit_terms="credit", amount=Decimal("40"), **kwargs)
    assert not over_credit_limit(credit_terms="prepaid", amount=Decimal("1000"), **kwargs)


def test_the_credit_rule_adds_one_finance_step():
    rules = [
        RuleCondition(order=1, decider_role="department_head", always=True, rule_id=1),
        RuleCondition(order=2, decider_role="finance", min_amount=Decimal("1000000"), rule_id=2),
        RuleCondition(order=2, decider_role="finance", over_credit_limit=True, rule_id=4),
    ]
    common = {"discount": Decimal("0"), "tier": "B"}
    assert [r.rule_id for r in required_steps(rules, amount=Decimal("10"), **common)] == [1]
    steps = required_steps(rules, amount=Decimal("10"), over_credit_limit=True, **common)
    assert [r.rule_id for r in steps] == [1, 4]
    steps = required_steps(rules, amount=Decimal("2000000"), over_credit_limit=True, **common)
    assert [r.rule_id for r in steps] == [1, 2]


def test_on_time_share_counts_unpaid_past_due_as_late():
    start, end = D(2026, 1, 1), D(2026, 12, 31)
    facts = [
        (D(2026, 2, 1), D(2026, 2, 1)),
        (D(2026, 3, 1), D(2026, 3, 2)),
        (D(2026, 4, 1), None),
        (D(2025, 4, 1), None),  # outside the window
    ]
    assert on_time_share(facts, start=start, end=end) == Decimal(100) / 3
    assert on_time_share([], start=start, end=end) is None
