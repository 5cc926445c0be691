"""Pure rules of the visits app: dates, quotas and budgets over plain values (no database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

# Used when a tier has no TierPolicy row; an ungraded customer is visited like tier D.
DEFAULT_INTERVAL_DAYS = {"A": 30, "B": 60, "C": 90, "D": 180}
UNGRADED_TIER = "D"
REMINDER_DAYS_AHEAD = 3
CARE_DAYS_AHEAD = 7
# The first visit to a customer with no earlier record needs this many staff participants.
FIRST_VISIT_MIN_PARTICIPANTS = 2
# 客户信息反馈: at least 5 a month, of which at least 2 on A, 2 on B and 1 on C customers.
FEEDBACK_MONTHLY_TOTAL = 5
FEEDBACK_MONTHLY_BY_TIER = {"A": 2, "B": 2, "C": 1}


def interval_days(tier: str, policy_days: Mapping[str, int]) -> int:
    """Return the visit interval of a tier ('' for ungraded: tier D's)."""
    tier = tier or UNGRADED_TIER
    return policy_days.get(tier) or DEFAULT_INTERVAL_DAYS[tier]


def plan_anchor(
    *,
    start: date,
    last_visit: date | None = None,
    last_cancelled_due: date | None = None,
) -> date:
    """Return the date the next visit is counted from.

    The last completed visit, or the admission (creation) date when there is none; a cancelled
    planned visit skips its cycle, so the next one is counted from its due date.
    """
    base = last_visit if last_visit is not None else start
    return max(base, last_cancelled_due) if last_cancelled_due is not None else base


def next_due_date(
    *,
    tier: str,
    policy_days: Mapping[str, int],
    start: date,
    last_visit: date | None = None,
    last_cancelled_due: date | None = None,
) -> date:
    """Return the due date of a customer's next visit."""
    anchor = plan_anchor(start=start, last_visit=last_visit, last_cancelled_due=last_cancelled_due)
    return anchor + timedelta(days=interval_days(tier, policy_days))


def needs_reminder(due: date, today: date) -> bool:
    """A visit due within 3 days, or overdue, is reminded (once a day)."""
    return due <= today + timedelta(days=REMINDER_DAYS_AHEAD)


def first_visit_participants_error(*, has_earlier_record: bool, participant_count: int) -> bool:
    """Return True when a first visit has too few staff participants."""
    return not has_earlier_record and participant_count < FIRST_VISIT_MIN_PARTICIPANTS


def upcoming_month_days(today: date, days: int = CARE_DAYS_AHEAD) -> list[tuple[int, int]]:
    """Return the (month, day) pairs from today to today + days, for birthday matching."""
    pairs = [((today + timedelta(n)).month, (today + timedelta(n)).day) for n in range(days + 1)]
    # A 29 February birthday is greeted on 28 February in other years.
    if (2, 28) in pairs and (2, 29) not in pairs and not _is_leap(today.year):
        pairs.append((2, 29))
    return pairs


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def next_birthday(birthday: date, today: date) -> date:
    """Return the next occurrence of a birthday on or after today."""
    for year in (today.year, today.year + 1):
        try:
            day = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class BudgetStatus:
    budget: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def over(self) -> bool:
        return self.spent > self.budget

    @property
    def percent(self) -> int:
        if not self.budget:
            return 100 if self.spent else 0
        return int(self.spent * 100 / self.budget)


def budget_status(*, budget: Decimal, costs: Iterable[Decimal]) -> BudgetStatus:
    """Return a customer's care spending this year against the tier's yearly budget."""
    return BudgetStatus(budget=Decimal(budget), spent=sum((Decimal(c) for c in costs), Decimal(0)))


@dataclass(frozen=True)
class FeedbackCompliance:
    total: int
    by_tier: dict[str, int]
    shortfalls: dict[str, int]

    @property
    def compliant(self) -> bool:
        return not self.shortfalls

    @property
    def other(self) -> int:
        """Feedback on D-tier and ungraded customers (counts toward the total only)."""
        return self.by_tier.get("D", 0) + self.by_tier.get("", 0)


def feedback_compliance(by_tier: Mapping[str, int]) -> FeedbackCompliance:
    """Check one manager's month of feedback against the quota; shortfalls say what is missing.

    Keys of by_tier are tiers ('' for ungraded); "total" in shortfalls is the overall gap.
    """
    counts = {tier: int(by_tier.get(tier, 0)) for tier in ("A", "B", "C", "D", "")}
    total = sum(counts.values())
    shortfalls = {
        tier: need - counts[tier]
        for tier, need in FEEDBACK_MONTHLY_BY_TIER.items()
        if counts[tier] < need
    }
    if total < FEEDBACK_MONTHLY_TOTAL:
        shortfalls["total"] = FEEDBACK_MONTHLY_TOTAL - total
    return FeedbackCompliance(total=total, by_tier=counts, shortfalls=shortfalls)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: date) -> date:
    start = quarter_start(day)
    month = start.month + 3
    following = date(start.year + (month > 12), (month - 1) % 12 + 1, 1)
    return following - timedelta(days=1)


def archive_check_state(last_verified: date | None, today: date) -> str:
    """Return "done" (verified this quarter), "due" (not yet this quarter) or "overdue"
    (not verified in the previous quarter either)."""
    start = quarter_start(today)
    if last_verified is not None and last_verified >= start:
        return "done"
    previous_start = quarter_start(start - timedelta(days=1))
    if last_verified is not None and last_verified >= previous_start:
        return "due"
    return "overdue"


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """Return the first day of the month and the first day of the next one."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following
