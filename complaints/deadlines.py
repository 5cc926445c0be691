"""Complaint deadlines as pure functions over plain values (no database)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Used when a customer has no tier yet and no tier D policy exists: tier D's default (24 h).
DEFAULT_RESPONSE_HOURS = 24
UNGRADED_TIER = "D"

RESOLUTION_TIME: dict[str, timedelta] = {
    "critical": timedelta(hours=24),
    "high": timedelta(hours=72),
    "medium": timedelta(days=7),
    "low": timedelta(days=14),
}


def response_due_at(received_at: datetime, response_hours: int | None) -> datetime:
    """Return when the first response is due: received at + the tier's response time."""
    hours = response_hours if response_hours else DEFAULT_RESPONSE_HOURS
    return received_at + timedelta(hours=hours)


def resolution_due_at(received_at: datetime, severity: str) -> datetime:
    """Return when the resolution is due, by severity."""
    return received_at + RESOLUTION_TIME[severity]


def add_month(day: date) -> date:
    """Return the same day one month later (the month's last day when it is shorter)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_follow_up_due(last: date) -> date:
    """Follow-ups are due monthly, counted from the resolution or the last follow-up."""
    return add_month(last)


def time_left(due: datetime | None, now: datetime) -> timedelta | None:
    return None if due is None else due - now


def describe_time_left(left: timedelta) -> str:
    """Return "3 h 20 min left" or "overdue by 2 d 4 h"; whole minutes, largest two units."""
    minutes = int(abs(left).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        amount = _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    elif hours:
        amount = _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": mins}
    else:
        amount = ngettext("%(minutes)d minute", "%(minutes)d minutes", mins) % {"minutes": mins}
    if left.total_seconds() < 0:
        return _("overdue by %(amount)s") % {"amount": amount}
    return _("%(amount)s left") % {"amount": amount}


def breach_rate(total: int, breached: int) -> float | None:
    """Return the share of complaints that missed a deadline, in %, or None without complaints."""
    return None if total == 0 else round(100 * breached / total, 1)
