"""The tier score as plain functions over plain values (no database).

Design, section "tiers": every indicator's raw measure is normalised to 0–100 (linear up to the
indicator's full-marks value, clamped), weighted (weight × normalised ÷ 100), and the weighted
values are summed and rounded half up to one decimal. A missing raw value scores 0 and makes the
grade incomplete. The database version (tiers/computation.py) only aggregates the raw measures
in SQL and then calls `score_customer` here, so both give the same figures by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import NamedTuple

HUNDRED = Decimal("100")
ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")
CENTI = Decimal("0.01")
TIERS = ("A", "B", "C", "D")

# The computed measures the system knows how to take from transactions.
ANNUAL_PURCHASE = "annual_purchase"
PURCHASE_FREQUENCY = "purchase_frequency"
PROFIT_CONTRIBUTION = "profit_contribution"
PAYMENT_RECORD = "payment_record"
REPURCHASE_RATE = "repurchase_rate"
COMPUTED_CODES = (
    ANNUAL_PURCHASE,
    PURCHASE_FREQUENCY,
    PROFIT_CONTRIBUTION,
    PAYMENT_RECORD,
    REPURCHASE_RATE,
)
# The step in raw units by which "what it takes" proposes a change (a whole transaction, a yuan,
# a quarter of four); assessed values are entered to one decimal.
RAW_STEPS = {
    ANNUAL_PURCHASE: Decimal("1"),
    PURCHASE_FREQUENCY: Decimal("1"),
    PROFIT_CONTRIBUTION: Decimal("0.01"),
    PAYMENT_RECORD: Decimal("0.1"),
    REPURCHASE_RATE: Decimal("25"),
}


class PeriodError(ValueError):
    """A period string that is not a quarter such as 2026Q3."""


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    weight: Decimal
    full_marks_at: Decimal = HUNDRED
    computed: bool = False
    name: str = ""
    dimension: str = ""


@dataclass(frozen=True)
class ModelSpec:
    indicators: tuple[IndicatorSpec, ...]
    # Minimum scores of A, B and C; anything below the last is D.
    thresholds: tuple[Decimal, Decimal, Decimal] = (Decimal("85"), Decimal("70"), Decimal("55"))

    @property
    def by_code(self) -> dict[str, IndicatorSpec]:
        return {indicator.code: indicator for indicator in self.indicators}


def D(value) -> Decimal:
    """Return value as a Decimal (floats via their shortest repr, as SQLite returns sums)."""
    if value is None:
        return None  # type: ignore[return-value]
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


DEFAULT_INDICATORS = (
    IndicatorSpec(ANNUAL_PURCHASE, Decimal(30), Decimal(5_000_000), True, dimension="value"),
    IndicatorSpec(PURCHASE_FREQUENCY, Decimal(10), Decimal(24), True, dimension="value"),
    IndicatorSpec(PROFIT_CONTRIBUTION, Decimal(10), Decimal(2), True, dimension="value"),
    IndicatorSpec("industry_outlook", Decimal(10), dimension="potential"),
    IndicatorSpec("growth_trend", Decimal(10), dimension="potential"),
    IndicatorSpec("expansion_potential", Decimal(10), dimension="potential"),
    IndicatorSpec("credit_rating", Decimal(5), dimension="credit"),
    IndicatorSpec(PAYMENT_RECORD, Decimal(5), HUNDRED, True, dimension="credit"),
    IndicatorSpec("financial_health", Decimal(5), dimension="credit"),
    IndicatorSpec(REPURCHASE_RATE, Decimal(2), HUNDRED, True, dimension="loyalty"),
    IndicatorSpec("recommendation", Decimal(2), dimension="loyalty"),
    IndicatorSpec("brand_recognition", Decimal(1), dimension="loyalty"),
)
DEFAULT_MODEL = ModelSpec(DEFAULT_INDICATORS)


# --- Validation of a model -----------------------------------------------------------------


def model_problems(
    weights: Iterable[Decimal], thresholds: Sequence[Decimal], computed_codes: Iterable[str] = ()
) -> list[str]:
    """Return why a model cannot be activated (English; the caller translates), or []."""
    problems = []
    total = sum((D(w) for w in weights), ZERO)
    if total != HUNDRED:
        problems.append(f"weights add up to {total.normalize():f}, not 100")
    values = [D(t) for t in thresholds]
    if any(b >= a for a, b in zip(values, values[1:], strict=False)) or any(
        t <= 0 or t > HUNDRED for t in values
    ):
        problems.append("thresholds must descend (A > B > C), between 0 and 100")
    unknown = sorted(set(computed_codes) - set(COMPUTED_CODES))
    if unknown:
        problems.append("unknown computed indicators: " + ", ".join(unknown))
    return problems


# --- Score and tier -------------------------------------------------------------------------


def normalise(raw: Decimal | None, full_marks_at: Decimal) -> Decimal:
    """Map a raw measure linearly to 0–100 (full marks at full_marks_at), clamped; None → 0."""
    if raw is None:
        return ZERO
    value = D(raw) * HUNDRED / D(full_marks_at)
    return min(HUNDRED, max(ZERO, value))


def round_score(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def tier_for(score: Decimal, thresholds: Sequence[Decimal] = DEFAULT_MODEL.thresholds) -> str:
    """Return A/B/C/D for a (rounded) score: A ≥ first threshold, …, D below the last."""
    for tier, minimum in zip(TIERS, thresholds, strict=False):
        if score >= minimum:
            return tier
    return TIERS[-1]


class IndicatorResult(NamedTuple):
    code: str
    raw: Decimal | None
    normalised: Decimal
    weighted: Decimal


@dataclass
class ScoreResult:
    score: Decimal
    tier: str
    incomplete: bool
    rows: list[IndicatorResult] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [row.code for row in self.rows if row.raw is None]

    def breakdown(self) -> dict[str, list]:
        """Return {code: [raw as text, normalised, weighted]} for a Grade's JSON column.

        The raw value is kept exact (text); the derived values are for display, rounded to
        two and three decimals (the score itself is computed from exact values)."""
        return {
            code: [
                None if raw is None else str(raw),
                round(float(normalised), 2),
                round(float(weighted), 3),
            ]
            for code, raw, normalised, weighted in self.rows
        }


def score_customer(
    raws: dict[str, Decimal | None], model: ModelSpec = DEFAULT_MODEL
) -> ScoreResult:
    """Score one customer from its raw measures by indicator code (absent/None = missing)."""
    rows = []
    total = ZERO
    incomplete = False
    for indicator in model.indicators:
        code = indicator.code
        raw = raws.get(code)
        if raw is None:
            normalised = ZERO
            incomplete = True
        else:
            if not isinstance(raw, Decimal):
                raw = D(raw)
            cap = indicator.full_marks_at
            normalised = raw if cap == HUNDRED else raw * HUNDRED / cap
            if normalised > HUNDRED:
                normalised = HUNDRED
            elif normalised < ZERO:
                normalised = ZERO
        # × 0.01 is exact, the same as ÷ 100.
        weighted = indicator.weight * normalised * CENTI
        total += weighted
        rows.append(IndicatorResult(code, raw, normalised, weighted))
    score = round_score(total)
    return ScoreResult(score, tier_for(score, model.thresholds), incomplete, rows)


# --- What it takes to reach the next tier -------------------------------------------------


@dataclass
class Step:
    code: str
    current_raw: Decimal | None
    needed_raw: Decimal
    change: Decimal  # needed_raw − current raw (missing counts as 0)
    new_score: Decimal


def next_tier_steps(
    raws: dict[str, Decimal | None], model: ModelSpec = DEFAULT_MODEL
) -> tuple[str | None, Decimal | None, list[Step]]:
    """Return (next tier, its threshold, the smallest change of each single indicator that
    would lift the score to it). Indicators that cannot close the gap alone are left out."""
    result = score_customer(raws, model)
    index = TIERS.index(result.tier)
    if index == 0:
        return None, None, []
    target_tier, threshold = TIERS[index - 1], model.thresholds[index - 1]
    exact = sum((row.weighted for row in result.rows), ZERO)
    # A rounded score reaches the threshold once the exact sum reaches threshold − 0.05.
    gap = threshold - Decimal("0.05") - exact
    steps = []
    for indicator, row in zip(model.indicators, result.rows, strict=True):
        if indicator.weight <= 0:
            continue
        needed_normalised = row.normalised + gap * HUNDRED / indicator.weight
        if needed_normalised > HUNDRED:
            continue
        step = RAW_STEPS.get(indicator.code, ONE_DECIMAL)
        needed = (needed_normalised * indicator.full_marks_at / HUNDRED / step).to_integral_value(
            rounding=ROUND_CEILING
        ) * step
        current = row.raw if row.raw is not None else ZERO
        # Rounding up to a step can only help; still, check it against the score itself.
        trial = dict(raws)
        trial[indicator.code] = needed
        new = score_customer(trial, model)
        while new.score < threshold and needed - current < indicator.full_marks_at * 10:
            needed += step
            trial[indicator.code] = needed
            new = score_customer(trial, model)
        if new.score >= threshold:
            steps.append(Step(indicator.code, row.raw, needed, needed - current, new.score))
    return target_tier, threshold, steps


# --- Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        nxt = self.next()
        return nxt.start - timedelta(days=1)

    def next(self) -> Period:
        return Period(self.year + self.quarter // 4, self.quarter % 4 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.quarter == 1), (self.quarter - 2) % 4 + 1)

    @property
    def window_quarters(self) -> list[Period]:
        """The four quarters of the 12-month window ending on this period's end, oldest first."""
        quarters = [self]
        for _ in range(3):
            quarters.insert(0, quarters[0].previous())
        return quarters

    @property
    def window_start(self) -> date:
        return self.window_quarters[0].start

    def end_datetime(self, tz) -> datetime:
        """The last instant of the period in the given time zone (exclusive bound: next start)."""
        return datetime.combine(self.next().start, time.min, tzinfo=tz)


def parse_period(text: str) -> Period:
    """Parse '2026Q3' (case-insensitive); raise PeriodError with a clear message otherwise."""
    cleaned = (text or "").strip().upper()
    year, sep, quarter = cleaned.partition("Q")
    if not (sep and year.isdigit() and len(year) == 4 and quarter.isdigit()):
        raise PeriodError(f"{text!r} is not a period: write a year and a quarter, like 2026Q3.")
    if not 1 <= int(quarter) <= 4:
        raise PeriodError(f"{text!r}: the quarter must be 1 to 4, like 2026Q3.")
    if not 2000 <= int(year) <= 2100:
        raise PeriodError(f"{text!r}: the year must be between 2000 and 2100.")
    return Period(int(year), int(quarter))


def period_just_ended(today: date) -> Period:
    """Return the last quarter that ended before today."""
    return Period(today.year, (today.month - 1) // 3 + 1).previous()


# --- Raw measures from plain transactions (the reference for the SQL version) ---------------


@dataclass(frozen=True)
class Tx:
    customer_id: int
    date: date
    amount: Decimal
    profit: Decimal
    due_date: date | None = None
    paid_date: date | None = None


def computed_raws(
    transactions: Iterable[Tx], period: Period, customer_ids: Iterable[int]
) -> dict[int, dict[str, Decimal | None]]:
    """Return each customer's computed raw measures over the 12 months ending on period end."""
    start, end = period.window_start, period.end
    quarters = period.window_quarters
    ids = list(customer_ids)
    amount = dict.fromkeys(ids, ZERO)
    profit = dict.fromkeys(ids, ZERO)
    count = dict.fromkeys(ids, 0)
    due = dict.fromkeys(ids, 0)
    on_time = dict.fromkeys(ids, 0)
    active: dict[int, set[int]] = {i: set() for i in ids}
    total_profit = ZERO
    for tx in transactions:
        if start <= tx.date <= end:
            total_profit += D(tx.profit)
            if tx.customer_id in amount:
                amount[tx.customer_id] += D(tx.amount)
                profit[tx.customer_id] += D(tx.profit)
                count[tx.customer_id] += 1
                for index, quarter in enumerate(quarters):
                    if quarter.start <= tx.date <= quarter.end:
                        active[tx.customer_id].add(index)
        if tx.customer_id in due and tx.due_date and start <= tx.due_date <= end:
            due[tx.customer_id] += 1
            if tx.paid_date is not None and tx.paid_date <= tx.due_date:
                on_time[tx.customer_id] += 1
    return {
        i: raws_from_aggregates(
            amount=amount[i],
            count=count[i],
            profit=profit[i],
            total_profit=total_profit,
            due=due[i],
            on_time=on_time[i],
            quarters_active=len(active[i]),
        )
        for i in ids
    }


def raws_from_aggregates(
    *,
    amount: Decimal,
    count: int,
    profit: Decimal,
    total_profit: Decimal,
    due: int,
    on_time: int,
    quarters_active: int,
) -> dict[str, Decimal | None]:
    """Turn one customer's aggregates into raw measures (shared by Python and SQL versions)."""
    return {
        ANNUAL_PURCHASE: D(amount),
        PURCHASE_FREQUENCY: Decimal(count),
        PROFIT_CONTRIBUTION: (D(profit) * HUNDRED / D(total_profit)) if total_profit > 0 else None,
        PAYMENT_RECORD: (Decimal(on_time) * HUNDRED / Decimal(due)) if due else None,
        REPURCHASE_RATE: Decimal(quarters_active) * HUNDRED / 4,
    }
