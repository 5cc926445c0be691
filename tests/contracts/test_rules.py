"""The approval rule evaluation: a pure function, tested at every boundary without a database."""

from decimal import Decimal

import pytest

from contracts.rules import RuleCondition, parse_tiers, required_steps

DEFAULTS = [
    RuleCondition(order=1, decider_role="department_head", always=True),
    RuleCondition(
        order=2,
        decider_role="finance",
        min_amount=Decimal("1000000"),
        min_discount=Decimal("10"),
    ),
    RuleCondition(
        order=3,
        decider_role="executive",
        min_amount=Decimal("5000000"),
        customer_tiers=frozenset({"A"}),
    ),
]


def roles(amount, discount="0", tier="B"):
    steps = required_steps(DEFAULTS, amount=Decimal(amount), discount=Decimal(discount), tier=tier)
    return [step.decider_role for step in steps]


@pytest.mark.parametrize(
    ("amount", "discount", "tier", "expected"),
    [
        ("999999.99", "0", "B", ["department_head"]),
        ("1000000.00", "0", "B", ["department_head", "finance"]),
        ("4999999.99", "0", "B", ["department_head", "finance"]),
        ("5000000.00", "0", "B", ["department_head", "finance", "executive"]),
        ("100", "9.99", "B", ["department_head"]),
        ("100", "10", "B", ["department_head", "finance"]),
        ("100", "10.00", "C", ["department_head", "finance"]),
        ("100", "0", "A", ["department_head", "executive"]),
        ("999999.99", "9.99", "A", ["department_head", "executive"]),
        ("6000000", "0", "A", ["department_head", "finance", "executive"]),
        ("100", "0", "", ["department_head"]),
        ("0.01", "100", "D", ["department_head", "finance"]),
    ],
)
def test_it_requires_the_steps_of_the_default_policy(amount, discount, tier, expected):
    assert roles(amount, discount, tier) == expected


def test_it_orders_steps_by_rule_order_not_list_order():
    rules = list(reversed(DEFAULTS))
    steps = required_steps(rules, amount=Decimal("6000000"), discount=Decimal("0"), tier="A")
    assert [step.order for step in steps] == [1, 2, 3]


def test_a_rule_without_conditions_and_not_always_never_applies():
    rule = RuleCondition(order=1, decider_role="finance")
    assert not rule.applies(amount=Decimal("1000000000"), discount=Decimal("100"), tier="A")


def test_it_parses_tier_lists():
    assert parse_tiers("a, B  c") == frozenset({"A", "B", "C"})
    assert parse_tiers("") == frozenset()
