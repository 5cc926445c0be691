"""Helpers for the visits tests: active customers with a manager, records, frozen days."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from accounts.models import CustomerStatus
from tests.factories import CustomerFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    """Return a moment on a day in Shanghai, for time_machine."""
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def active_customer(manager, *, tier: str = "A", **fields):
    fields.setdefault("department", manager.department)
    fields.setdefault("primary_manager", manager)
    return CustomerFactory(status=CustomerStatus.ACTIVE, tier=tier, **fields)
