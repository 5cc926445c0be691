"""The monthly visit and feedback summaries: the same figures as counting the visits and the
feedback themselves, for every kind of period and scope, and when they are rebuilt."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import Customer
from dashboard import activity, reports
from dashboard.activity import Split, split_period
from dashboard.models import MonthlyFeedback, MonthlyVisits
from dashboard.reports import ReportFilters
from dashboard.summaries import refresh_summaries
from visits.models import InformationFeedback, PlannedVisit, VisitRecord, VisitStatus

from .factories import NOW, SHANGHAI, TODAY, customer, d, feedback, plan, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


YESTERDAY = TODAY - timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "end", "summarised_on", "expected"),
    [
        # whole past months only
        (d(4, 1), d(9, 30), TODAY, Split(d(4, 1), d(9, 1), [])),
        # an edge inside a month; today's month from summaries rebuilt today
        (d(3, 15), TODAY, TODAY, Split(d(4, 1), d(11, 1), [(d(3, 15), d(3, 31))])),
        (d(3, 1), d(12, 31), TODAY, Split(d(3, 1), d(11, 1), [(d(12, 1), d(12, 31))])),
        # ... and counted live when they are older, or when the period stops before today
        (
            d(3, 15),
            TODAY,
            YESTERDAY,
            Split(d(4, 1), d(10, 1), [(d(3, 15), d(3, 31)), (d(11, 1), TODAY)]),
        ),
        (d(10, 1), d(11, 15), TODAY, Split(d(10, 1), d(10, 1), [(d(11, 1), d(11, 15))])),
        (d(5, 9), d(5, 20), TODAY, Split(None, None, [(d(5, 9), d(5, 20))])),
        (d(11, 2), d(12, 31), TODAY, Split(None, None, [(d(11, 2), d(12, 31))])),
        (d(9, 1), d(10, 30), None, Split(d(9, 1), d(9, 1), [(d(10, 1), d(10, 30))])),
    ],
)
def test_split_period(start, end, summarised_on, expected):
    assert split_period(start, end, TODAY, summarised_on) == expected


@pytest.fixture
def random_visits(manager, manager2, other_manager, east):
    rng = random.Random(11)
    owners = [manager, manager2, other_manager, None]  # None: in the pool
    actors = [manager, manager2, other_manager, None]  # None: a pool customer's plan
    customers = [customer(rng.choice(owners), department=east) for _ in range(10)]
    start = date(2025, 9, 1)
    statuses = list(VisitStatus)
    for _ in range(120):
        c, actor = rng.choice(customers), rng.choice(actors)
        due = start + timedelta(days=rng.randint(0, 480))
        status = rng.choice(statuses)
        # Visits are recorded on the day, never ahead of today.
        done_on = min(due + timedelta(days=rng.randint(-5, 5)), TODAY)
        if status == VisitStatus.COMPLETED and actor:
            plan(c, actor, due, status, done_on=done_on)
        else:
            if status == VisitStatus.PLANNED:  # at most one open plan per customer
                c = customer(rng.choice(owners), department=east)
            PlannedVisit.objects.create(customer=c, assigned_to=actor, due_date=due, status=status)
        if rng.random() < 0.5 and actor:
            record(c, actor, done_on, satisfaction=rng.choice([None, 1, 2, 3, 4, 5]))
    for _ in range(150):
        # Around midnight at the turn of a month, to check months are taken in local time.
        day = start + timedelta(days=rng.randint(0, 440))
        moment = datetime.datetime(day.year, day.month, day.day, rng.choice([0, 12, 23]), 30)
        InformationFeedback.objects.create(
            customer=rng.choice(customers),
            category="needs",
            content="需求",
            customer_tier=rng.choice(["A", "B", "C", "D", ""]),
            submitted_by=rng.choice(actors[:3]),
            submitted_at=moment.replace(tzinfo=SHANGHAI),
        )
    refresh_summaries()
    return customers


def live_visit_counts(f: ReportFilters) -> dict[int, dict]:
    """What the summary must answer, counted from the plans and records of the scope.

    A plan counts for the manager responsible for its customer on the due date (the plan's
    holder when nobody was); a record for its author. The report's manager filter selects the
    customers by the manager responsible on the fact's date (here nobody changed: today's).
    """
    counts: dict[int, dict] = defaultdict(activity.empty_visit_counts)
    # A manager's own book, or whom the user sees; then the filters (no manager changed here,
    # so the one responsible on any date is today's).
    seen = f.customers() if f.sales_scope() is None else Customer.objects.visible_to(f.user)
    if f.department_id:
        seen = seen.filter(department_id=f.department_id)
    customers = dict(seen.values_list("pk", "primary_manager_id"))
    if f.manager_id:
        customers = {pk: m for pk, m in customers.items() if m == f.manager_id}
    for p in PlannedVisit.objects.select_related("completed_by_record"):
        counted = p.status in (VisitStatus.COMPLETED, VisitStatus.PLANNED)
        if p.customer_id in customers and counted and f.start <= p.due_date <= min(f.end, TODAY):
            c = counts[customers[p.customer_id] or p.assigned_to_id]
            c["due"] += 1
            if p.status == VisitStatus.COMPLETED:
                c["done"] += 1
                record_ = p.completed_by_record
                c["on_time"] += bool(record_ and record_.date <= p.due_date)
    for r in VisitRecord.objects.exclude(satisfaction=None):
        if r.customer_id in customers and f.start <= r.date <= f.end:
            counts[r.recorded_by_id]["satisfaction_sum"] += r.satisfaction
            counts[r.recorded_by_id]["satisfaction_count"] += 1
    return dict(counts)


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if any(v.values())}


PERIODS = [
    (date(2025, 10, 1), TODAY),
    (date(2026, 1, 1), date(2026, 3, 31)),
    (date(2025, 9, 17), date(2026, 2, 11)),
    (date(2026, 5, 9), date(2026, 5, 20)),
    (date(2026, 4, 1), date(2026, 12, 31)),
    (date(2026, 11, 1), TODAY),
]


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_visit_counts_are_those_of_the_visits(
    random_visits, executive, head, manager, east, north, start, end
):
    for user, narrowing in [
        (executive, {}),
        (head, {}),
        (executive, {"department_id": north.pk}),
        (executive, {"manager_id": manager.pk}),
        (manager, {}),  # a manager's own book is counted live
    ]:
        f = ReportFilters(user=user, start=start, end=end, today=TODAY, **narrowing)
        assert nonzero(activity.visit_counts(f)) == nonzero(live_visit_counts(f))


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_feedback_counts_are_those_of_the_feedback(
    random_visits, executive, manager, manager2, other_manager, start, end
):
    ids = [manager.pk, manager2.pk, other_manager.pk]
    f = ReportFilters(user=executive, start=start, end=end, today=TODAY)
    expected: dict = defaultdict(dict)
    first = datetime.datetime(start.year, start.month, 1, tzinfo=SHANGHAI)
    last = datetime.datetime(end.year, end.month, end.day, tzinfo=SHANGHAI) + timedelta(days=1)
    for fb in InformationFeedback.objects.filter(submitted_at__gte=first, submitted_at__lt=last):
        local = fb.submitted_at.astimezone(SHANGHAI)
        cell = expected[(fb.submitted_by_id, local.year, local.month)]
        cell[fb.customer_tier] = cell.get(fb.customer_tier, 0) + 1
    assert activity.feedback_counts(f, ids) == expected


def test_figures_are_those_of_the_last_rebuild(executive, manager):
    c = customer(manager)
    plan(c, manager, d(10, 10), VisitStatus.COMPLETED, done_on=d(10, 9))
    plan(customer(manager), manager, d(11, 25))  # not due yet: never counted
    feedback(c, manager, d(10, 3))
    refresh_summaries()
    f = ReportFilters(user=executive, start=d(10, 1), end=TODAY, today=TODAY)
    plan(customer(manager), manager, d(10, 20))  # overdue
    plan(customer(manager), manager, d(11, 2))  # overdue, this month
    feedback(c, manager, d(10, 4))
    feedback(c, manager, d(11, 4))

    def execution():
        report = reports.visit_execution(replace(f))  # a new request
        return report.rows[0][2:5], report.extra["sales_as_of"]

    def feedback_in(month):
        fresh = ReportFilters(user=executive, start=d(10, 1), end=TODAY, today=TODAY)
        return activity.feedback_counts(fresh, [manager.pk]).get((manager.pk, 2026, month))

    assert execution() == ([1, 1, 1], NOW)  # the new plans wait for the rebuild
    assert (feedback_in(10), feedback_in(11)) == ({"B": 1}, None)
    call_command("refresh_summaries")
    assert execution()[0] == [3, 1, 1]
    assert (feedback_in(10), feedback_in(11)) == ({"B": 2}, {"B": 1})


def test_this_month_is_counted_live_when_the_summaries_are_older(executive, manager):
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        refresh_summaries()
    c = customer(manager)
    plan(c, manager, d(11, 2), VisitStatus.COMPLETED, done_on=d(11, 2))
    feedback(c, manager, d(11, 4))
    f = ReportFilters(user=executive, start=d(10, 1), end=TODAY, today=TODAY)
    assert reports.visit_execution(f).rows[0][2:5] == [1, 1, 1]
    assert activity.feedback_counts(f, [manager.pk]) == {(manager.pk, 2026, 11): {"B": 1}}


def test_the_rebuild_replaces_the_visit_and_feedback_summaries(manager, capsys):
    c = customer(manager)
    plan(c, manager, d(10, 10), VisitStatus.COMPLETED, done_on=d(10, 12))
    record(c, manager, d(10, 20), satisfaction=4)
    feedback(c, manager, d(10, 3))
    call_command("refresh_summaries")
    # The plan and the record fall in the same month, customer and manager: one row.
    assert "1 visit rows, 1 feedback rows" in capsys.readouterr().out
    call_command("refresh_summaries")
    assert list(
        MonthlyVisits.objects.values_list(
            "month", "actor", "due", "done", "on_time", "satisfaction_sum", "satisfaction_count"
        )
    ) == [(d(10, 1), manager.pk, 1, 1, 0, 4, 1)]
    assert list(
        MonthlyFeedback.objects.values_list(
            "month", "manager", "tier_a", "tier_b", "tier_c", "tier_d", "ungraded"
        )
    ) == [(d(10, 1), manager.pk, 0, 1, 0, 0, 0)]
