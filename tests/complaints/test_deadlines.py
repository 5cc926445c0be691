"""Deadlines are pure functions: no database."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from complaints import deadlines

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("tier_hours", "expected"),
    [(2, RECEIVED + timedelta(hours=2)), (4, RECEIVED + timedelta(hours=4)),
     (8, RECEIVED + timedelta(hours=8)), (24, RECEIVED + timedelta(hours=24))],
)  # fmt: skip
def test_response_is_due_after_the_tiers_response_time(tier_hours, expected):
    assert deadlines.response_due_at(RECEIVED, tier_hours) == expected


def test_an_ungraded_customer_gets_the_default_response_time():
    assert deadlines.response_due_at(RECEIVED, None) == RECEIVED + timedelta(hours=24)


@pytest.mark.parametrize(
    ("severity", "after"),
    [("critical", timedelta(hours=24)), ("high", timedelta(hours=72)),
     ("medium", timedelta(days=7)), ("low", timedelta(days=14))],
)  # fmt: skip
def test_resolution_is_due_by_severity(severity, after):
    assert deadlines.resolution_due_at(RECEIVED, severity) == RECEIVED + after


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 1, 31), date(2026, 2, 28)), (date(2026, 12, 15), date(2027, 1, 15)),
     (date(2028, 1, 30), date(2028, 2, 29))],
)  # fmt: skip
def test_follow_ups_are_due_monthly(day, expected):
    assert deadlines.next_follow_up_due(day) == expected


@translation.override("en")
def test_time_left_is_described_in_the_largest_two_units():
    assert deadlines.describe_time_left(timedelta(hours=3, minutes=20)) == "3 h 20 min left"
    assert deadlines.describe_time_left(-timedelta(days=2, hours=4)) == "overdue by 2 d 4 h"
    assert deadlines.describe_time_left(timedelta(minutes=1)) == "1 minute left"


def test_breach_rate_is_a_percentage_or_none():
    assert deadlines.breach_rate(0, 0) is None
    assert deadlines.breach_rate(3, 1) == 33.3
