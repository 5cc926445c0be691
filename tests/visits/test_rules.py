"""The pure rules, without the database."""

from datetime import date
from decimal import Decimal

from visits import rules

POLICY = {"A": 30, "B": 60, "C": 90, "D": 180}


def test_it_counts_the_next_visit_from_the_latest_anchor():
    start = date(2026, 1, 1)
    assert rules.next_due_date(tier="A", policy_days=POLICY, start=start) == date(2026, 1, 31)
    assert rules.next_due_date(
        tier="B", policy_days=POLICY, start=start, last_visit=date(2026, 3, 1)
    ) == date(2026, 4, 30)
    assert rules.next_due_date(
        tier="C",
        policy_days=POLICY,
        start=start,
        last_visit=date(2026, 2, 1),
        last_cancelled_due=date(2026, 5, 1),
    ) == date(2026, 7, 30)


def test_it_visits_ungraded_customers_like_tier_d_and_falls_back_to_defaults():
    start = date(2026, 1, 1)
    assert rules.next_due_date(tier="", policy_days=POLICY, start=start) == date(2026, 6, 30)
    assert rules.next_due_date(tier="B", policy_days={}, start=start) == date(2026, 3, 2)


def test_it_reminds_within_three_days_and_when_overdue():
    today = date(2026, 11, 23)
    assert rules.needs_reminder(date(2026, 11, 1), today)
    assert rules.needs_reminder(date(2026, 11, 26), today)
    assert not rules.needs_reminder(date(2026, 11, 27), today)


def test_it_asks_two_participants_only_on_a_first_visit():
    assert rules.first_visit_participants_error(has_earlier_record=False, participant_count=1)
    assert not rules.first_visit_participants_error(has_earlier_record=False, participant_count=2)
    assert not rules.first_visit_participants_error(has_earlier_record=True, participant_count=1)


def test_it_finds_the_next_birthday_across_the_year_end_and_on_29_february():
    assert rules.next_birthday(date(1980, 1, 3), date(2026, 12, 29)) == date(2027, 1, 3)
    assert rules.next_birthday(date(1984, 2, 29), date(2026, 2, 25)) == date(2026, 2, 28)
    assert (2, 29) in rules.upcoming_month_days(date(2027, 2, 25))
    assert (1, 2) in rules.upcoming_month_days(date(2026, 12, 28))


def test_it_warns_when_care_spending_passes_the_budget():
    status = rules.budget_status(
        budget=Decimal("50000"), costs=[Decimal("20000"), Decimal("25000")]
    )
    assert (status.spent, status.remaining, status.over) == (
        Decimal("45000"),
        Decimal("5000"),
        False,
    )
    status = rules.budget_status(budget=Decimal("50000"), costs=[Decimal("45000"), Decimal("6000")])
    assert status.over and status.remaining == Decimal("-1000")
    assert not rules.budget_status(budget=Decimal("50000"), costs=[Decimal("50000")]).over


def test_it_checks_the_feedback_quota():
    assert rules.feedback_compliance({"A": 2, "B": 2, "C": 1}).compliant
    short = rules.feedback_compliance({"A": 3, "B": 2})
    assert short.total == 5 and short.shortfalls == {"C": 1}
    short = rules.feedback_compliance({"A": 1, "B": 1, "C": 1, "D": 2, "": 1})
    assert short.total == 6 and short.shortfalls == {"A": 1, "B": 1} and short.other == 3
    assert rules.feedback_compliance({}).shortfalls == {"A": 2, "B": 2, "C": 1, "total": 5}


def test_it_tells_the_state_of_the_quarterly_archive_check():
    today = date(2026, 11, 23)  # Q4 starts 1 October; Q3 started 1 July
    assert rules.archive_check_state(date(2026, 10, 1), today) == "done"
    assert rules.archive_check_state(date(2026, 9, 30), today) == "due"
    assert rules.archive_check_state(date(2026, 7, 1), today) == "due"
    assert rules.archive_check_state(date(2026, 6, 30), today) == "overdue"
    assert rules.archive_check_state(None, today) == "overdue"
    assert rules.quarter_end(today) == date(2026, 12, 31)
    assert rules.quarter_start(date(2026, 3, 31)) == date(2026, 1, 1)


def test_a_visit_before_the_admission_still_counts():
    assert rules.plan_anchor(start=date(2026, 3, 1), last_visit=date(2026, 2, 20)) == date(
        2026, 2, 20
    )
