"""The monthly sales summary: the same figures as summing the transactions, and when it is built."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Sum

from accounts.models import Transaction
from dashboard import reports, sales
from dashboard.models import MonthlySales
from dashboard.reports import ReportFilters
from dashboard.sales import Scope
from dashboard.summaries import refresh_summaries
from dashboard.tasks import summaries_refresh_task
from tiers import services as tier_services
from tiers.models import RunStatus

from .factories import NOW, TODAY, customer, d, grade, run, sale

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def live(scope_filter: dict, group: str, buckets) -> dict:
    """What the summary must answer, summed from the transactions themselves."""
    cells = {}
    lookup = sales.GROUPS[group]
    for label, first, last in buckets:
        for row in (
            Transaction.objects.filter(date__gte=first, date__lte=last, **scope_filter)
            .values(lookup)
            .annotate(a=Sum("amount"), p=Sum("profit"), n=Count("pk"))
        ):
            key = (label, row[lookup] if row[lookup] is not None else "")
            cells[key] = [row["a"], row["p"], row["n"]]
    return cells


@pytest.fixture
def random_sales(manager, manager2, other_manager, east):
    rng = random.Random(7)
    owners = [manager, manager2, other_manager, None]  # None: in the pool, no manager
    customers = [
        customer(rng.choice(owners), department=east, tier=rng.choice(["A", "B", "C", "D", ""]))
        for _ in range(12)
    ]
    for _ in range(150):
        day = date(2025, 9, 1) + timedelta(days=rng.randint(0, 440))
        sale(rng.choice(customers), day, str(rng.randint(1, 900_000)), str(rng.randint(0, 9_000)))
    refresh_summaries()
    return customers


PERIODS = [
    # whole months; a period ending today; edges inside months with sales outside the period
    [("all", date(2025, 10, 1), date(2026, 9, 30))],
    [("q", date(2026, 1, 1), date(2026, 3, 31)), ("r", date(2026, 4, 1), TODAY)],
    [("a", date(2025, 9, 17), date(2026, 2, 11)), ("b", date(2026, 2, 12), date(2026, 6, 3))],
    [("one month", date(2026, 5, 9), date(2026, 5, 20))],
]


@pytest.mark.parametrize("buckets", PERIODS)
@pytest.mark.parametrize("group", ["tier", "manager", "department"])
def test_the_summary_gives_the_transactions_sums(random_sales, east, manager, buckets, group):
    for scope, scope_filter in [
        (Scope(), {}),
        (Scope(departments=[east.pk]), {"customer__department": east.pk}),
        (Scope(managers=[manager.pk]), {"customer__primary_manager": manager.pk}),
    ]:
        assert sales.sales_by(scope, group, buckets) == live(scope_filter, group, buckets)


def test_an_edge_month_with_sales_outside_the_period_is_summed_from_transactions(manager):
    c = customer(manager, tier="A")
    sale(c, d(5, 2), "100")
    sale(c, d(5, 15), "20")
    sale(c, d(5, 30), "3")
    refresh_summaries()
    assert sales.total(Scope(), d(5, 10), d(5, 20)) == (D("20"), D("0"))
    assert sales.total(Scope(), d(5, 1), d(5, 29)) == (D("120"), D("0"))
    assert sales.total(Scope(), d(5, 3), d(6, 30)) == (D("23"), D("0"))
    # Nothing of May falls outside 1–31 May: the summary row answers alone, in one query.
    assert sales.total(Scope(), d(5, 1), d(5, 31)) == (D("123"), D("0"))


def test_figures_are_those_of_the_last_rebuild(executive, manager):
    c = customer(manager, tier="B")
    sale(c, d(10, 5), "1000")
    filters = ReportFilters(user=executive, start=d(10, 1), end=TODAY, today=TODAY)
    assert reports.revenue_by_tier(filters).totals[-2] == 0  # never built
    assert reports.revenue_by_tier(filters).extra["sales_as_of"] is None
    refresh_summaries()
    assert reports.revenue_by_tier(filters).totals[-2] == D("1000")
    sale(c, d(10, 6), "500")
    assert reports.revenue_by_tier(filters).totals[-2] == D("1000")  # until the next rebuild
    summaries_refresh_task.delay()
    # A new request (filters are made per request; they remember when the summaries were built).
    report = reports.revenue_by_tier(replace(filters))
    assert report.totals[-2] == D("1500")
    assert report.extra["summarised"] and report.extra["sales_as_of"] == NOW


def test_a_managers_own_book_is_summed_live(manager):
    c = customer(manager, tier="B")
    sale(c, d(10, 5), "1000")
    filters = ReportFilters(user=manager, start=d(10, 1), end=TODAY, today=TODAY)
    report = reports.revenue_by_tier(filters)
    assert report.totals[-2] == D("1000") and report.extra == {**report.extra, "summarised": False}


def test_head_scope_is_their_department(head, manager, other_manager):
    sale(customer(manager, tier="A"), d(10, 5), "1000")
    sale(customer(other_manager, tier="A"), d(10, 5), "7")  # another department
    refresh_summaries()
    filters = ReportFilters(user=head, start=d(10, 1), end=TODAY, today=TODAY)
    assert reports.revenue_by_tier(filters).totals[-2] == D("1000")


def test_publication_rebuilds_the_summary_with_the_new_tiers(
    executive, manager, django_capture_on_commit_callbacks
):
    c = customer(manager, tier="B")
    sale(c, d(10, 5), "1000")
    refresh_summaries()
    review = run("2026Q3", status=RunStatus.UNDER_REVIEW)
    grade(review, c, "A", previous="B")
    # Tasks run eagerly in tests: the rebuild runs when the publication commits.
    with django_capture_on_commit_callbacks(execute=True):
        tier_services.grading_run_publish(run=review, published_by=executive)
    assert list(MonthlySales.objects.values_list("tier", "amount")) == [("A", D("1000"))]


def test_the_command_rebuilds_and_a_rebuild_replaces_everything(manager, capsys):
    c = customer(manager, tier="C")
    sale(c, d(3, 5), "10")
    sale(c, d(3, 6), "20")
    sale(c, d(4, 1), "5")
    call_command("refresh_summaries")
    assert "2 sales rows" in capsys.readouterr().out
    call_command("refresh_summaries")
    assert sorted(MonthlySales.objects.values_list("month", "amount", "transactions")) == [
        (d(3, 1), D("30"), 2),
        (d(4, 1), D("5"), 1),
    ]
