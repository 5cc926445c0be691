"""Ageing buckets (days overdue) at each boundary, computed in SQL under a frozen clock."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from contracts import selectors
from contracts.models import InstalmentState
from contracts.rules import ageing_bucket

from .factories import at, contract_in_force

D = datetime.date
TODAY = D(2026, 9, 30)
# days overdue → bucket; 0 is due today (not overdue), -1 is due tomorrow.
BOUNDARIES = {
    -1: "",
    0: "",
    1: "0-30",
    30: "0-30",
    31: "31-60",
    60: "31-60",
    61: "61-90",
    90: "61-90",
    91: "90+",
    400: "90+",
}


@pytest.mark.parametrize("days, bucket", BOUNDARIES.items())
def test_the_pure_bucket_at_each_boundary(days, bucket):
    assert (ageing_bucket(days) or "") == bucket


@pytest.mark.django_db
def test_the_sql_bucket_at_each_boundary(manager, head, executive):
    plan = [(TODAY - datetime.timedelta(days=days), 1000) for days in BOUNDARIES]
    with time_machine.travel(at(2025, 8, 1)):
        contract = contract_in_force(
            manager=manager,
            head=head,
            amount=str(1000 * len(plan)),
            plan=plan,
            start_date=D(2025, 8, 1),
            end_date=D(2027, 7, 31),
        )
    with time_machine.travel(at(2026, 9, 30, 23)):  # late evening: still the 30th in Shanghai
        rows = selectors.instalments_of(contract)
        got = {(TODAY - row.due_date).days: row.bucket for row in rows}
        assert got == BOUNDARIES
        overdue = {(TODAY - row.due_date).days for row in rows if row.state == "overdue"}
        assert overdue == {d for d in BOUNDARIES if d >= 1}
        summary = selectors.ageing_summary(selectors.receivables_for_scope(executive, "company"))
        assert summary[0]["due"] == Decimal("2000")  # due tomorrow and today
        assert [summary[0][f"b{i}"] for i in range(4)] == [Decimal("2000")] * 4
        first = selectors.instalments_of(contract).last()
        assert first.state == InstalmentState.OPEN
