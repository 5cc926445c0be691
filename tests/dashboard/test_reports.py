"""Every report figure against data counted by hand (today is 2026-11-20, Asia/Shanghai)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import time_machine
from django.utils import translation

from accounts.models import Customer
from contracts.models import ContractStatus
from dashboard import reports
from dashboard.reports import ReportFilters
from dashboard.summaries import refresh_summaries
from tiers.models import RunStatus
from visits.models import VisitStatus

from .factories import (
    NOW,
    TODAY,
    at,
    complaint,
    contract,
    customer,
    d,
    feedback,
    grade,
    plan,
    record,
    run,
    sale,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    # Labels are compared in English (the source text); the site's default is Chinese.
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


OCTOBER_1 = d(10, 1)


def filters(user, start=OCTOBER_1, end=TODAY, **kw) -> ReportFilters:
    return ReportFilters(user=user, start=start, end=end, today=TODAY, **kw)


def column(report, name):
    names = [str(c[0]) for c in report.columns]
    return names.index(name)


# --- tier distribution -------------------------------------------------------------------


@pytest.fixture
def tiered(manager, manager2, other_manager, east):
    customer(manager, tier="A")
    customer(manager, tier="B")
    customer(manager2, tier="B")
    customer(manager2, tier="")
    customer(other_manager, tier="C")
    customer(None, tier="D", department=east)  # in the pool: the department's all the same
    customer(manager, tier="", status="prospect")  # not admitted: not counted


def test_tier_distribution_for_an_executive_counts_every_department(executive, tiered):
    report = reports.tier_distribution(filters(executive))
    assert report.rows == [
        ["华东大客户部", 1, 2, 0, 1, 1, 5],
        ["华北大客户部", 0, 0, 1, 0, 0, 1],
    ]
    assert report.totals[1:] == [1, 2, 1, 1, 1, 6]
    assert "<svg" in report.chart and "<title" in report.chart


def test_tier_distribution_for_a_head_and_a_manager(head, manager, tiered):
    assert reports.tier_distribution(filters(head)).rows == [["华东大客户部", 1, 2, 0, 1, 1, 5]]
    assert reports.tier_distribution(filters(manager)).rows == [["华东大客户部", 1, 1, 0, 0, 0, 2]]


def test_tier_distribution_filtered_by_manager(executive, manager2, tiered):
    report = reports.tier_distribution(filters(executive, manager_id=manager2.pk))
    assert report.rows == [["华东大客户部", 0, 1, 0, 0, 1, 2]]


# --- tier movement -----------------------------------------------------------------------


@pytest.fixture
def two_runs(manager, manager2, other_manager, east):
    c1, c2 = customer(manager, tier="A"), customer(manager, tier="B")
    c3, c4 = customer(manager2, tier="B"), customer(manager2, tier="C")
    c5, c6 = customer(other_manager, tier="B"), customer(manager2, tier="D")
    q2, q3 = run("2026Q2"), run("2026Q3")
    run("2026Q4", status=RunStatus.COMPUTED)  # not published: never offered
    for c, tier in [(c1, "A"), (c2, "A"), (c3, "B"), (c5, "C"), (c6, "D")]:
        grade(q2, c, tier)
    for c, tier, previous in [
        (c1, "A", "A"),
        (c2, "B", "A"),
        (c3, "B", "B"),
        (c4, "C", ""),
        (c5, "B", "C"),
    ]:
        grade(q3, c, tier, previous)
    return {"q2": q2, "q3": q3, "c2": c2, "c6": c6}


def test_movement_matrix_against_hand_count(executive, two_runs):
    report = reports.tier_movement(filters(executive))
    assert report.extra["run_from"] == two_runs["q2"]
    assert report.extra["run_to"] == two_runs["q3"]
    matrix = report.extra["matrix"]  # rows/cols: A B C D not-graded
    assert matrix == [
        [1, 1, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0],
    ]


def test_movement_rows_and_columns_add_up_to_the_two_runs(executive, two_runs):
    matrix = reports.tier_movement(filters(executive)).extra["matrix"]
    from tiers.models import Grade

    for i, tier in enumerate("ABCD"):
        assert sum(matrix[i]) == Grade.objects.filter(run=two_runs["q2"], tier=tier).count()
        assert (
            sum(row[i] for row in matrix)
            == Grade.objects.filter(run=two_runs["q3"], tier=tier).count()
        )
    assert sum(sum(row) for row in matrix[:4]) == two_runs["q2"].grades.count()
    assert sum(sum(row[:4]) for row in matrix) == two_runs["q3"].grades.count()


def test_movement_for_a_manager_counts_only_their_customers(manager, two_runs):
    matrix = reports.tier_movement(filters(manager)).extra["matrix"]
    assert sum(map(sum, matrix)) == 2
    assert matrix[0][:2] == [1, 1]


def test_movement_for_a_head_counts_their_departments_customers(head, two_runs):
    # The other department's customer (C → B) is left out; the rest as for the executive.
    assert reports.tier_movement(filters(head)).extra["matrix"] == [
        [1, 1, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0],
    ]


def test_movement_cell_lists_its_customers(executive, two_runs):
    f = filters(executive)
    q2, q3 = two_runs["q2"], two_runs["q3"]
    _a, _b, customers = reports.movement_customers(f, q2.pk, q3.pk, "A", "B")
    assert list(customers) == [two_runs["c2"]]
    _a, _b, customers = reports.movement_customers(f, q2.pk, q3.pk, "D", "-")
    assert list(customers) == [two_runs["c6"]]
    assert reports.movement_customers(f, q2.pk, 999999, "A", "B")[0] is None


def test_movement_with_one_published_run_says_two_are_needed(executive, manager):
    run("2026Q3")
    report = reports.tier_movement(filters(executive))
    assert report.rows == [] and report.notes


# --- visit plan execution ----------------------------------------------------------------


def test_visit_execution_rate_per_manager(executive, manager, manager2, other_manager):
    # At most one open plan per customer: the open ones go to their own customers.
    c, c2 = customer(manager), customer(manager2)
    plan(c, manager, d(10, 10), VisitStatus.COMPLETED, done_on=d(10, 9))  # on time
    plan(c, manager, d(10, 20), VisitStatus.COMPLETED, done_on=d(10, 25))  # late
    plan(customer(manager), manager, d(11, 5))  # overdue
    plan(c, manager, d(11, 10), VisitStatus.CANCELLED)  # not counted
    plan(customer(manager), manager, d(11, 25))  # not due yet
    plan(c, manager, d(9, 20), VisitStatus.COMPLETED, done_on=d(9, 20))  # before the period
    plan(c2, manager2, d(11, 1), VisitStatus.COMPLETED, done_on=d(11, 1))
    refresh_summaries()  # October from the summary, November (this month) counted live
    report = reports.visit_execution(filters(executive))
    by_name = {row[0]: row[2:] for row in report.rows}
    assert by_name[str(manager)] == [3, 2, 1, D("66.7")]
    assert by_name[str(manager2)] == [1, 1, 1, D("100.0")]
    assert by_name[str(other_manager)] == [0, 0, 0, None]
    assert report.totals[2:] == [4, 3, 2, D("75.0")]


def test_visit_execution_for_a_manager_shows_only_them(manager, manager2):
    report = reports.visit_execution(filters(manager))
    assert [row[0] for row in report.rows] == [str(manager)]


# --- information feedback ----------------------------------------------------------------


def test_feedback_compliance_by_month(head, manager, manager2):
    a, b, c = customer(manager, tier="A"), customer(manager, tier="B"), customer(manager, tier="C")
    for day in (d(10, 3), d(10, 4)):
        feedback(a, manager, day)
        feedback(b, manager, day)
    feedback(c, manager, d(10, 31))
    for day in (d(11, 3), d(11, 4)):
        feedback(a, manager, day)
        feedback(b, manager, day)
    feedback(c, manager, d(9, 30))  # before the period
    refresh_summaries()  # October from the summary, November (this month) counted live
    report = reports.feedback_compliance(filters(head))
    assert [str(col[0]) for col in report.columns][1:3] == ["2026-10", "2026-11"]
    rows = {row[0]: row[1:] for row in report.rows}
    assert rows[str(manager)] == ["5", "4 ✗", 1, D("50.0")]
    assert rows[str(manager2)] == ["0 ✗", "0 ✗", 0, D("0.0")]


# --- complaints --------------------------------------------------------------------------


@pytest.fixture
def complaints(manager, other_manager):
    a, b = customer(manager, tier="A"), customer(manager, tier="B")
    c = customer(other_manager, tier="C")
    complaint(a, received=at(d(10, 5)), acknowledged_after=1, resolved_after=24, status="resolved")
    complaint(
        a, received=at(d(10, 10)), acknowledged_after=9, resolved_after=100, status="resolved"
    )
    complaint(b, received=at(TODAY, 8), category="delivery")  # still within both deadlines
    complaint(
        c,
        received=at(d(10, 1)),
        acknowledged_after=2,
        status="in_progress",
        category="delivery",
        resolution_hours=168,
    )  # resolution overdue
    complaint(a, received=at(d(9, 1)), acknowledged_after=1)  # before the period


def test_complaint_deadlines_by_tier_and_category(executive, complaints):
    report = reports.complaint_deadlines(filters(executive))
    assert report.rows == [
        ["A", "Service", 2, 1, D("50.0"), 1, D("50.0")],
        ["B", "Delivery", 1, 0, None, 0, None],
        ["C", "Delivery", 1, 1, D("100.0"), 0, D("0.0")],
    ]
    assert report.totals[2:] == [4, 2, D("66.7"), 1, D("33.3")]


def test_complaint_deadlines_for_a_manager(manager, complaints):
    report = reports.complaint_deadlines(filters(manager))
    assert [row[:3] for row in report.rows] == [["A", "Service", 2], ["B", "Delivery", 1]]


# --- contracts ---------------------------------------------------------------------------


def test_contract_pipeline_by_status_and_amount(executive, manager, manager2):
    c1, c2 = customer(manager), customer(manager2)
    contract(c1, manager, ContractStatus.DRAFT, "100000")
    contract(c1, manager, ContractStatus.APPROVED, "2000000")
    contract(c2, manager2, ContractStatus.ACTIVE, "500000")
    contract(c2, manager2, ContractStatus.ACTIVE, "300000.50")
    contract(c2, manager2, ContractStatus.ACTIVE, "999", created=at(d(9, 1)))  # before
    report = reports.contract_pipeline(filters(executive))
    rows = {row[0]: row[1:] for row in report.rows}
    assert rows["Draft"] == [1, D("100000")]
    assert rows["Pending approval"] == [0, 0]
    assert rows["Approved"] == [1, D("2000000")]
    assert rows["Active"] == [2, D("800000.50")]
    assert report.totals[1:] == [4, D("2900000.50")]
    manager_rows = {r[0]: r[1] for r in reports.contract_pipeline(filters(manager)).rows}
    assert manager_rows["Active"] == 0 and manager_rows["Draft"] == 1


# --- revenue -----------------------------------------------------------------------------


def test_revenue_and_profit_by_quarter_and_tier(executive, manager, other_manager):
    a, b = customer(manager, tier="A"), customer(manager, tier="B")
    ungraded, c = customer(manager, tier=""), customer(other_manager, tier="C")
    sale(a, d(5, 10), "100000", "10000")
    sale(a, d(8, 1), "200000", "30000")
    sale(b, d(8, 15), "50000", "5000")
    sale(ungraded, d(10, 10), "10000", "1000")
    sale(c, d(3, 31), "999", "99")  # before the period
    refresh_summaries()
    report = reports.revenue_by_tier(filters(executive, start=d(4, 1)))
    # Quarter, A, B, C, D, ungraded, revenue, profit
    assert report.rows == [
        ["2026Q2", 100000, 0, 0, 0, 0, 100000, 10000],
        ["2026Q3", 200000, 50000, 0, 0, 0, 250000, 35000],
        ["2026Q4", 0, 0, 0, 0, 10000, 10000, 1000],
    ]
    assert report.totals[1:] == [300000, 50000, 0, 0, 10000, 360000, 46000]
    by_tier = {row[0]: row[1:] for row in report.extra["by_tier_rows"]}
    assert by_tier["A"] == [300000, 40000, D("13.3")]
    assert by_tier["C"] == [0, 0, None]


# --- scorecard ---------------------------------------------------------------------------


def test_manager_scorecard(executive, manager, manager2):
    old, new = customer(manager), customer(manager, created_at=at(d(10, 15)))
    sale(old, d(10, 5), "300000")
    sale(new, d(11, 1), "100000")
    sale(old, d(9, 1), "200000")  # the previous period (2026-08-11 – 2026-09-30)
    sale(old, d(8, 1), "777")  # before both
    record(old, manager, d(10, 6), satisfaction=4)
    record(old, manager, d(10, 7), satisfaction=5)
    record(old, manager, d(10, 8))  # no satisfaction given
    complaint(
        old,
        received=at(d(10, 3)),
        acknowledged_after=1,
        resolved_after=10,
        status="confirmed",
        satisfaction=3,
    )
    complaint(
        new,
        received=at(d(10, 20)),
        acknowledged_after=6,
        resolved_after=10,
        status="confirmed",
        satisfaction=4,
    )
    plan(old, manager, d(10, 10), VisitStatus.COMPLETED, done_on=d(10, 10))
    plan(old, manager, d(11, 1))
    refresh_summaries()
    report = reports.manager_scorecard(filters(executive))
    rows = {row[0]: row[1:] for row in report.rows}
    # sales, growth %, customers, new, visit sat., complaint sat., plan %, deadlines met %
    assert rows[str(manager)] == [
        D("400000"),
        D("100.0"),
        2,
        1,
        D("4.5"),
        D("3.5"),
        D("50.0"),
        D("75.0"),
    ]
    assert rows[str(manager2)] == [0, None, 0, 0, None, None, None, None]


# --- early warning -----------------------------------------------------------------------


@pytest.fixture
def risky(manager, manager2, other_manager):
    """Last 4 weeks: 2026-10-24 – 11-20; the previous: 09-26 – 10-23."""
    made = {}

    def moved(name, owner, previous, last):
        c = customer(owner, name=name)
        if previous:
            sale(c, d(10, 1), previous)
        if last:
            sale(c, d(11, 1), last)
        made[name] = c

    moved("up40", manager, "100000", "140000")
    moved("up25", manager, "100000", "125000")
    moved("up30", manager, "100000", "130000")  # exactly +30 %: not more than
    moved("down30", manager2, "100000", "70000")
    moved("down15", manager, "100000", "85000")
    moved("down20", manager, "100000", "80000")  # exactly −20 %: not more than
    moved("new buyer", manager, None, "50000")  # nothing to compare with
    moved("north down", other_manager, "100000", "10000")
    dropped = customer(manager, tier="C", name="dropped")
    grade(run("2026Q2"), dropped, "B")
    grade(run("2026Q3"), dropped, "C", "B")
    both = customer(manager, name="both")
    plan(both, manager, d(11, 1))
    complaint(both, received=at(d(11, 10)))
    visit_only = customer(manager, name="visit only")
    plan(visit_only, manager, d(11, 1))
    return made


def test_risk_list_for_a_manager_with_reasons(manager, risky):
    refresh_summaries(today=TODAY)
    risks = {r["customer"].name: r["reasons"] for r in reports.risk_list(filters(manager))}
    assert set(risks) == {"up40", "dropped", "both"}  # down30 is manager2's
    assert risks["up40"] == ["Purchases up 40% on the previous 4 weeks"]
    assert risks["dropped"] == ["Tier dropped from B to C"]
    assert risks["both"] == ["Overdue visit and an open complaint"]


def test_risk_list_for_the_head_and_the_other_department(head, other_head, risky):
    assert reports.risk_list(filters(head)) == []  # read from the table: not built yet
    refresh_summaries(today=TODAY)
    names = {r["customer"].name for r in reports.risk_list(filters(head))}
    assert names == {"up40", "down30", "dropped", "both"}
    north = reports.risk_list(filters(other_head))
    assert [(r["customer"].name, r["reasons"]) for r in north] == [
        ("north down", ["Purchases down 90% on the previous 4 weeks"])
    ]


def test_the_list_is_the_one_computed_at_the_last_rebuild(executive, manager, risky):
    assert reports.risk_list(filters(executive)) == []  # never built
    refresh_summaries(today=TODAY)
    everyone = reports.risk_list(filters(executive))
    found = reports.risk_facts(Customer.objects.all(), TODAY)
    assert {r["customer"].pk for r in everyone} == {
        pk for pk in found if reports.risk_rank(found[pk])
    }
    # Strongest first: the biggest change, then a drop or an overdue visit with a complaint.
    assert [r["customer"].name for r in everyone][:3] == ["north down", "up40", "down30"]
    assert len(reports.risk_list(filters(executive), limit=2)) == 2
    customer(manager, name="later")  # not on the list before the next rebuild
    later = risky["up25"]
    sale(later, d(11, 2), "900000")
    assert "up25" not in {r["customer"].name for r in reports.risk_list(filters(manager))}
    refresh_summaries(today=TODAY)
    assert "up25" in {r["customer"].name for r in reports.risk_list(filters(manager))}


def test_risk_report_rows(head, risky):
    refresh_summaries(today=TODAY)
    report = reports.risk_report(filters(head))
    row = next(r for r in report.rows if r[0] == "down30")
    assert row[3:6] == [D("100000"), D("70000"), D("-30")]
