"""Figures by manager count each fact for the manager responsible on its date: a handover in the
middle of a period leaves the past with the old manager (today is 2026-11-20, Asia/Shanghai)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from accounts.models import AssignmentChange, AssignmentKind, ManagerRole
from accounts.services import (
    customer_assign_manager,
    customer_create,
    manager_handover,
    pool_claim,
    pool_release,
)
from dashboard import history, reports, sales
from dashboard.models import MonthlySales, MonthlyVisits
from dashboard.reports import ReportFilters
from dashboard.selectors import home_context
from dashboard.summaries import refresh_summaries
from visits.models import PlannedVisit, VisitStatus

from .factories import NOW, TODAY, at, complaint, customer, d, plan, sale

pytestmark = pytest.mark.django_db

OCTOBER_1 = d(10, 1)
HANDOVER_DAY = d(11, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


def filters(user, start=OCTOBER_1, end=TODAY, **kw) -> ReportFilters:
    return ReportFilters(user=user, start=start, end=end, today=TODAY, **kw)


@pytest.fixture
def handed_over(manager, manager2, head):
    """One customer, manager's until the handover to manager2 on 1 November (09:00)."""
    c = customer(manager)  # no recorded change before: manager's since before the periods
    sale(c, d(9, 10), "1500")  # the previous period of October 1 – today (Aug 11 – Sep 30)
    sale(c, d(10, 10), "1000")
    sale(c, d(10, 31), "2000")  # the last day before the handover
    plan(c, manager, d(10, 15), VisitStatus.COMPLETED, done_on=d(10, 15))
    missed = plan(c, manager, d(10, 20))  # still open: the handover gives it to manager2
    complaint(
        c,
        received=at(d(10, 12)),
        acknowledged_after=1,
        resolved_after=10,
        status="confirmed",
        satisfaction=2,
    )
    with time_machine.travel(at(HANDOVER_DAY, 9), tick=False):
        manager_handover(from_user=manager, to_user=manager2, performed_by=head, reason="调岗")
    sale(c, HANDOVER_DAY, "400")  # the day of the handover: the successor's
    sale(c, d(11, 5), "500")
    complaint(
        c,
        received=at(d(11, 6)),
        acknowledged_after=1,
        resolved_after=10,
        status="confirmed",
        satisfaction=5,
    )
    plan(c, manager2, d(11, 10), VisitStatus.COMPLETED, done_on=d(11, 10))
    missed.refresh_from_db()
    assert missed.assigned_to == manager2 and missed.status == VisitStatus.PLANNED
    refresh_summaries()
    return c


# sales, growth %, customers (today), new, visit sat., complaint sat., plan %, deadlines met %
OLD_ROW = [D("3000"), D("100.0"), 0, 0, None, D("2.0"), D("50.0"), D("100.0")]
NEW_ROW = [D("900"), None, 1, 0, None, D("5.0"), D("100.0"), D("100.0")]


def scorecard(f) -> dict:
    return {row[0]: row[1:] for row in reports.manager_scorecard(f).rows}


def test_the_scorecard_keeps_the_past_with_the_old_manager(
    handed_over, executive, head, manager, manager2
):
    for f in [filters(executive), filters(head)]:  # from the monthly summary
        rows = scorecard(f)
        assert rows[str(manager)] == OLD_ROW
        assert rows[str(manager2)] == NEW_ROW
    # A head or an executive filtering on one manager: the summary rows of that manager.
    assert scorecard(filters(head, manager_id=manager.pk)) == {str(manager): OLD_ROW}
    assert scorecard(filters(executive, manager_id=manager2.pk)) == {str(manager2): NEW_ROW}
    # Each manager's own scorecard, summed from the facts themselves.
    assert scorecard(filters(manager)) == {str(manager): OLD_ROW}
    assert scorecard(filters(manager2)) == {str(manager2): NEW_ROW}


def test_a_period_edge_inside_a_month_splits_at_the_handover_too(
    handed_over, executive, manager, manager2
):
    # October 15 – today: October's rows count days outside the period and are summed from the
    # transactions; the previous period is September 9 – October 14.
    for user in (executive, manager):
        rows = scorecard(filters(user, start=d(10, 15)))
        assert rows[str(manager)][:2] == [D("2000"), D("-20.0")]
    assert scorecard(filters(executive, start=d(10, 15)))[str(manager2)][:2] == [D("900"), None]
    assert scorecard(filters(manager2, start=d(10, 15)))[str(manager2)][:2] == [D("900"), None]


def test_revenue_filtered_by_manager_is_theirs_while_responsible(
    handed_over, executive, head, manager, manager2
):
    for user in (executive, head):
        for who, expected in ((manager, D("3000")), (manager2, D("900"))):
            report = reports.revenue_by_tier(filters(user, manager_id=who.pk))
            assert report.totals[-2] == expected, (user, who)


def test_visit_execution_keeps_a_missed_plan_with_the_manager_it_was_due_for(
    handed_over, executive, head, manager, manager2
):
    for user in (executive, head):
        rows = {r[0]: r for r in reports.visit_execution(filters(user)).rows}
        assert rows[str(manager)][2:4] == [2, 1], rows  # due, completed
        assert rows[str(manager2)][2:4] == [1, 1], rows
    own = {r[0]: r for r in reports.visit_execution(filters(manager2)).rows}
    assert own[str(manager2)][2:4] == [1, 1]
    # The summary holds the plans under the manager responsible on their due dates.
    by_manager = {}
    for row in MonthlyVisits.objects.filter(due__gt=0):
        by_manager[row.manager_id] = by_manager.get(row.manager_id, 0) + row.due
    assert by_manager == {manager.pk: 2, manager2.pk: 1}


def test_a_handover_changes_no_figure_of_the_past(manager, manager2, head, executive):
    c = customer(manager)
    sale(c, d(10, 10), "1000")
    plan(c, manager, d(10, 20))
    refresh_summaries()
    before = scorecard(filters(executive, end=d(10, 31)))
    with time_machine.travel(at(HANDOVER_DAY, 9), tick=False):
        manager_handover(from_user=manager, to_user=manager2, performed_by=head, reason="调岗")
    refresh_summaries()
    after = scorecard(filters(executive, end=d(10, 31)))
    sales_and_plans = [1, 6]  # sales, plan execution (the customer count is today's)
    for who in (manager, manager2):
        assert [after[str(who)][i] for i in sales_and_plans] == [
            before[str(who)][i] for i in sales_and_plans
        ]
    assert before[str(manager)][0] == D("1000")


def test_the_home_pages_after_a_handover(handed_over, manager, manager2):
    old, new = home_context(manager, today=TODAY), home_context(manager2, today=TODAY)
    # Open work went to the successor; the old manager keeps none of it.
    assert old["customer_count"] == 0 and old["visits"] == []
    assert [v.customer_id for v in new["visits"]] == [handed_over.pk]
    assert new["visit_counts"]["overdue"] == 1


# --- the rule and its set-based form ------------------------------------------------------


def periods() -> list[tuple]:
    sql, params = history.periods_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (customer_id, manager_id, date.fromisoformat(str(start)), date.fromisoformat(str(end)))
            for customer_id, manager_id, start, end in cursor.fetchall()
        ]


def manager_from_periods(rows, customer_id, day) -> int | None:
    found = [m for c, m, start, end in rows if c == customer_id and start <= day < end]
    assert len(found) == 1, (customer_id, day, found)  # disjoint, and no day left out
    return found[0]


@pytest.fixture
def histories(manager, manager2, head):
    """Customers whose primary manager changed in every way the services record."""
    made = {}
    made["never changed"] = customer(manager)
    made["pool"] = customer(None, department=manager.department, status="prospect")

    created = customer(manager)
    # The first manager recorded at creation after facts loaded with earlier dates (the demo
    # data and an import do so): those facts are the first manager's.
    AssignmentChange.objects.create(
        customer=created,
        role=ManagerRole.PRIMARY,
        kind=AssignmentKind.CREATED,
        new_user=manager,
        changed_by=manager,
        changed_at=at(d(6, 1)),
        reason="created",
    )
    made["created late"] = created

    claimed = customer(None, department=manager.department, status="prospect")
    with time_machine.travel(at(d(3, 3), 23), tick=False):  # 23:00: the local date counts
        pool_claim(customer=claimed, user=manager)
    with time_machine.travel(at(d(5, 5)), tick=False):
        pool_release(customer=claimed, released_by=manager, reason="不再跟进")
    with time_machine.travel(at(d(7, 7)), tick=False):
        pool_claim(customer=claimed, user=manager2)
    made["claimed, released, claimed"] = claimed

    moved = customer(manager)
    for hour, user in ((9, manager2), (15, manager)):  # two changes on one day: the last counts
        with time_machine.travel(at(d(8, 8), hour), tick=False):
            moved.refresh_from_db()
            customer_assign_manager(
                customer=moved,
                role=ManagerRole.PRIMARY,
                user=user,
                assigned_by=head,
                reason="调整",
            )
    with time_machine.travel(at(d(9, 9)), tick=False):
        moved.refresh_from_db()
        customer_assign_manager(
            customer=moved, role=ManagerRole.PRIMARY, user=manager2, assigned_by=head, reason="调整"
        )
    made["moved twice"] = moved
    for c in made.values():
        c.refresh_from_db()  # the services changed copies of their own
    return made


EXPECTED = {
    "never changed": {d(1, 1): "manager", TODAY: "manager"},
    "pool": {d(1, 1): None, TODAY: None},
    "created late": {d(1, 1, 2025): "manager", d(6, 1): "manager", TODAY: "manager"},
    "claimed, released, claimed": {
        d(3, 2): None,
        d(3, 3): "manager",
        d(5, 4): "manager",
        d(5, 5): None,
        d(7, 6): None,
        d(7, 7): "manager2",
        TODAY: "manager2",
    },
    "moved twice": {
        d(8, 7): "manager",
        d(8, 8): "manager",  # 09:00 to manager2, 15:00 back: manager's day
        d(9, 8): "manager",
        d(9, 9): "manager2",
        TODAY: "manager2",
    },
}


def test_the_responsible_manager_by_hand(histories, manager, manager2):
    users = {"manager": manager.pk, "manager2": manager2.pk, None: None}
    rows = periods()
    for name, days in EXPECTED.items():
        c = histories[name]
        for day, who in days.items():
            assert history.primary_manager_on(c, day) == users[who], (name, day)
            assert manager_from_periods(rows, c.pk, day) == users[who], (name, day)


def test_the_rule_and_the_period_table_agree_on_every_day(histories):
    rows = periods()
    for c in histories.values():
        day = d(1, 1)
        while day <= TODAY:
            assert history.primary_manager_on(c, day) == manager_from_periods(rows, c.pk, day)
            day += timedelta(days=1)


def test_the_summary_and_the_direct_sums_agree(histories, manager, manager2):
    rng = random.Random(5)
    for c in histories.values():
        for _ in range(25):
            sale(c, d(1, 1) + timedelta(days=rng.randint(0, 323)), str(rng.randint(1, 9) * 100))
    refresh_summaries()
    summary: dict = {}
    for row in MonthlySales.objects.all():
        summary[row.manager_id] = summary.get(row.manager_id, D(0)) + row.amount
    direct = sales.summed_transactions("manager", [(d(1, 1), TODAY)])
    assert {k or None: v[0][0] for k, v in direct.items()} == summary
    # ... and both are the facts summed by hand with the rule.
    by_hand: dict = {}
    for c in histories.values():
        for t in c.transactions.all():
            who = history.primary_manager_on(c, t.date)
            by_hand[who] = by_hand.get(who, D(0)) + t.amount
    assert summary == by_hand
    assert set(summary) == {manager.pk, manager2.pk, None}


def test_a_pool_customers_plans_count_for_whoever_held_them(manager, executive):
    c = customer(None, department=manager.department, status="prospect")
    PlannedVisit.objects.create(customer=c, assigned_to=manager, due_date=d(10, 5))
    refresh_summaries()
    rows = {r[0]: r for r in reports.visit_execution(filters(executive)).rows}
    assert rows[str(manager)][2:4] == [1, 0]


def test_a_new_customer_counts_for_the_manager_who_had_it_when_created(
    manager, manager2, head, executive
):
    with time_machine.travel(at(d(10, 15)), tick=False):
        customer_create(created_by=manager, name="新客户有限公司", department=manager.department)
    with time_machine.travel(at(HANDOVER_DAY, 9), tick=False):
        manager_handover(from_user=manager, to_user=manager2, performed_by=head, reason="调岗")
    with time_machine.travel(at(d(11, 10)), tick=False):
        customer_create(created_by=manager2, name="另一新客户", department=manager2.department)
    for user in (executive, head):
        rows = scorecard(filters(user))
        assert rows[str(manager)][3] == 1  # new customers
        assert rows[str(manager2)][3] == 1
    assert scorecard(filters(manager))[str(manager)][3] == 1
    assert scorecard(filters(manager2))[str(manager2)][3] == 1


def test_complaint_deadlines_filtered_by_manager_count_theirs_while_responsible(
    handed_over, executive, head, manager, manager2
):
    for user in (executive, head):
        for who in (manager, manager2):
            report = reports.complaint_deadlines(filters(user, manager_id=who.pk))
            assert report.totals[2] == 1, (user, who)  # one complaint each
