"""The pure scoring functions against hand-computed cases (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from tiers import scoring
from tiers.scoring import Tx

ASSESSED = [
    "industry_outlook",
    "growth_trend",
    "expansion_potential",
    "credit_rating",
    "financial_health",
    "recommendation",
    "brand_recognition",
]


def raws(**changes):
    """Full marks everywhere, then the given changes (None = missing)."""
    values = {
        "annual_purchase": Decimal(5_000_000),
        "purchase_frequency": Decimal(24),
        "profit_contribution": Decimal(2),
        "payment_record": Decimal(100),
        "repurchase_rate": Decimal(100),
        **dict.fromkeys(ASSESSED, Decimal(100)),
    }
    values.update({k: (None if v is None else Decimal(str(v))) for k, v in changes.items()})
    return values


def worked_example(**changes):
    values = {
        "annual_purchase": Decimal(2_500_000),
        "purchase_frequency": Decimal(12),
        "profit_contribution": Decimal(1),
        "payment_record": Decimal(100),
        "repurchase_rate": Decimal(75),
        **dict.fromkeys(ASSESSED, Decimal(80)),
    }
    values.update({k: (None if v is None else Decimal(str(v))) for k, v in changes.items()})
    return values


def test_the_designs_worked_example_scores_65_9_tier_c():
    result = scoring.score_customer(worked_example())
    assert result.score == Decimal("65.9")
    assert result.tier == "C"
    assert not result.incomplete
    weighted = [row.weighted for row in result.rows]
    expected = ["15", "5", "5", "8", "8", "8", "4", "5", "4", "1.5", "1.6", "0.8"]
    assert weighted == [Decimal(x) for x in expected]


@pytest.mark.parametrize(
    ("changes", "score", "tier"),
    [
        ({}, "100.0", "A"),
        # 2.5M of 5M is half of 30 points: exactly 85.0 is A.
        ({"annual_purchase": 2_500_000}, "85.0", "A"),
        # … and a tenth less (brand recognition 90 of weight 1) is B.
        ({"annual_purchase": 2_500_000, "brand_recognition": 90}, "84.9", "B"),
        # No purchases at all loses 30 points: exactly 70.0 is B.
        ({"annual_purchase": 0}, "70.0", "B"),
        ({"annual_purchase": 0, "brand_recognition": 90}, "69.9", "C"),
        # 30 + 10 + 5 lost: exactly 55.0 is C, a tenth less is D.
        ({"annual_purchase": 0, "purchase_frequency": 0, "credit_rating": 0}, "55.0", "C"),
        (
            {
                "annual_purchase": 0,
                "purchase_frequency": 0,
                "credit_rating": 0,
                "brand_recognition": 90,
            },
            "54.9",
            "D",
        ),
        # Half up, not half even: 99.85 → 99.9.
        ({"recommendation": "92.5"}, "99.9", "A"),
        # Clamped: twice the full-marks purchase still scores 30, not 60.
        ({"annual_purchase": 10_000_000, "growth_trend": 0}, "90.0", "A"),
    ],
)
def test_boundaries_and_rounding(changes, score, tier):
    result = scoring.score_customer(raws(**changes))
    assert (result.score, result.tier) == (Decimal(score), tier)


def test_a_missing_assessment_scores_zero_and_marks_the_grade_incomplete():
    result = scoring.score_customer(worked_example(growth_trend=None))
    assert result.score == Decimal("57.9")
    assert result.tier == "C"
    assert result.incomplete
    assert result.missing == ["growth_trend"]
    assert result.breakdown()["growth_trend"] == [None, 0.0, 0.0]


PERIOD = scoring.parse_period("2026Q3")  # window 2025-10-01 … 2026-09-30


def test_a_customer_with_no_transactions():
    # Another customer's profit makes the denominator; customer 1 bought nothing.
    txs = [Tx(2, date(2026, 5, 1), Decimal("100000"), Decimal("10000"), date(2026, 6, 1))]
    computed = scoring.computed_raws(txs, PERIOD, [1])[1]
    assert computed == {
        "annual_purchase": Decimal("0"),
        "purchase_frequency": Decimal("0"),
        "profit_contribution": Decimal("0"),
        "payment_record": None,  # nothing fell due: nothing to measure
        "repurchase_rate": Decimal("0"),
    }
    result = scoring.score_customer({**computed, **dict.fromkeys(ASSESSED, Decimal(80))})
    # 8 + 8 + 8 + 4 + 4 + 1.6 + 0.8
    assert (result.score, result.tier, result.incomplete) == (Decimal("34.4"), "D", True)


def test_an_unpaid_transaction_past_due_counts_as_late():
    txs = [
        # Four purchases in four quarters, 1,000,000 in all, profit 10,000 of 20,000 total.
        Tx(
            1,
            date(2025, 11, 1),
            Decimal("250000"),
            Decimal("2500"),
            date(2025, 12, 1),
            date(2025, 12, 1),
        ),  # noqa: E501
        Tx(
            1,
            date(2026, 2, 1),
            Decimal("250000"),
            Decimal("2500"),
            date(2026, 3, 1),
            date(2026, 2, 20),
        ),  # noqa: E501
        Tx(
            1,
            date(2026, 5, 1),
            Decimal("250000"),
            Decimal("2500"),
            date(2026, 6, 1),
            date(2026, 6, 9),
        ),  # noqa: E501
        Tx(1, date(2026, 8, 1), Decimal("250000"), Decimal("2500"), date(2026, 9, 1), None),
        # Outside the window: ignored (bought and due before it starts).
        Tx(1, date(2025, 6, 1), Decimal("900000"), Decimal("9000"), date(2025, 7, 1), None),
        Tx(2, date(2026, 1, 10), Decimal("50000"), Decimal("10000"), None, None),
    ]
    computed = scoring.computed_raws(txs, PERIOD, [1])[1]
    assert computed["annual_purchase"] == Decimal("1000000")
    assert computed["purchase_frequency"] == 4
    assert computed["profit_contribution"] == Decimal("50")  # clamped to full marks later
    assert computed["payment_record"] == Decimal("50")  # one late, one unpaid past due
    assert computed["repurchase_rate"] == Decimal("100")
    result = scoring.score_customer({**computed, **dict.fromkeys(ASSESSED, Decimal(60))})
    # 6 + 1.6667 + 10 + 6 + 6 + 6 + 3 + 2.5 + 3 + 2 + 1.2 + 0.6 = 47.9667 → 48.0
    assert (result.score, result.tier, result.incomplete) == (Decimal("48.0"), "D", False)


def test_what_it_takes_to_reach_the_next_tier():
    tier, threshold, steps = scoring.next_tier_steps(worked_example())
    assert (tier, threshold) == ("B", Decimal("70"))
    by_code = {step.code: step for step in steps}
    # 65.9 + 30 × (3,175,000 − 2,500,000) / 5,000,000 = 69.95 → 70.0
    assert by_code["annual_purchase"].needed_raw == Decimal("3175000")
    assert by_code["purchase_frequency"].needed_raw == Decimal("22")
    assert by_code["profit_contribution"].needed_raw == Decimal("1.81")
    # Assessed indicators of weight 10 would need 80 → 120: impossible alone.
    assert "industry_outlook" not in by_code
    for step in steps:
        assert step.new_score >= Decimal("70")


def test_tier_a_has_no_next_tier():
    assert scoring.next_tier_steps(raws()) == (None, None, [])


@pytest.mark.parametrize("text", ["2026Q5", "abc", "2026Q0", "26Q1", "", "2026-3"])
def test_bad_periods_are_refused_with_a_clear_message(text):
    with pytest.raises(scoring.PeriodError, match="2026Q3"):
        scoring.parse_period(text)


def test_period_parsing_and_windows():
    period = scoring.parse_period("2026q1")
    assert str(period) == "2026Q1"
    assert period.window_start == date(2025, 4, 1)
    assert period.end == date(2026, 3, 31)
    assert scoring.period_just_ended(date(2026, 10, 1)) == scoring.Period(2026, 3)
    assert scoring.period_just_ended(date(2026, 1, 1)) == scoring.Period(2025, 4)


def test_model_problems():
    assert scoring.model_problems([Decimal(50), Decimal(50)], [85, 70, 55]) == []
    problems = scoring.model_problems([Decimal(50), Decimal(49)], [70, 85, 55])
    assert len(problems) == 2
