"""Home page by role and the report pages: content, access, export, bounded queries."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import DataTransferLog
from contracts.models import ContractStatus
from dashboard.reports import REPORTS
from dashboard.summaries import refresh_summaries
from notifications.models import Notification
from tests.contracts.factories import submitted_contract
from tiers.models import RunStatus
from visits.models import CareTask, VisitStatus

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
    run,
    sale,
)

pytestmark = pytest.mark.django_db
SLUGS = list(REPORTS)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def runs(db):
    return run("2026Q2"), run("2026Q3")


def populate(manager, runs, n: int, start: int = 0) -> None:
    """n rows of everything the home page and the reports list, for one manager."""
    q2, q3 = runs
    for i in range(start, start + n):
        c = customer(manager, tier="ABCD"[i % 4], name=f"客户{i:03d}")
        sale(c, d(10, 1), "100000", "10000")
        sale(c, d(11, 1), "200000", "20000")
        plan(c, manager, d(11, 1))
        plan(c, manager, d(10, 10), VisitStatus.COMPLETED, done_on=d(10, 10))
        feedback(c, manager, d(10, 5))
        complaint(c, received=at(d(11, 18)), acknowledged_after=1, status="acknowledged")
        contract(c, manager, ContractStatus.DRAFT, "10000")
        CareTask.objects.create(
            customer=c, kind="holiday", due_date=d(11, 22), assigned_to=manager, key=f"t:{i}"
        )
        Notification.objects.create(recipient=manager, message=f"消息{i}")
        grade(q2, c, "B")
        grade(q3, c, "C", "B")
    refresh_summaries(today=TODAY)  # what the summaries job would have done by now


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# --- home ----------------------------------------------------------------------------------


def test_manager_home_shows_todays_work(client_for, manager, runs):
    populate(manager, runs, 2)
    page = client_for(manager).get("/").content.decode()
    for testid in ("home-visits", "home-complaints", "home-contracts", "home-care", "home-risks"):
        assert f'data-testid="{testid}"' in page
    assert "客户000" in page and "客户001" in page
    assert "TS-" in page and "left" in page  # open complaints with the time left
    assert "HT-T-" in page  # contracts awaiting the owner
    assert "Tier dropped from B to C" in page  # early warning
    assert "消息1" in page  # unread notifications
    assert 'data-testid="home-company-totals"' not in page


def test_head_home_shows_the_department_and_what_waits_for_them(
    client_for, head, manager, manager2, runs
):
    populate(manager2, runs, 1)
    submitted_contract(owner=manager, customer=customer(manager, name="待审客户"))
    review = run("2026Q4", status=RunStatus.UNDER_REVIEW)
    grade(review, customer(manager, name="待复核"), "A")
    page = client_for(head).get("/").content.decode()
    assert 'data-testid="contracts-waiting"' in page and "待审客户" in page
    assert "2026Q4" in page and "1 grade to review" in page
    assert "客户000" in page  # manager2's visit, seen by the head


def test_finance_and_executive_see_company_totals_and_waiting_steps(
    client_for, finance, executive, manager, runs
):
    page = client_for(executive).get("/").content.decode()
    assert "Summary not built yet" in page
    populate(manager, runs, 3)
    sale(customer(manager), d(11, 2), "5")  # after the last rebuild: not counted yet
    for user in (finance, executive):
        page = client_for(user).get("/").content.decode()
        assert 'data-testid="home-company-totals"' in page
        assert 'data-testid="contracts-waiting"' in page
        assert "¥900,000" in page  # this year's revenue: 3 customers × (100,000 + 200,000)
        assert "Figures as of 2026-" in page
        assert 'data-testid="home-visits"' not in page


@pytest.mark.parametrize("role", ["manager", "head", "finance", "executive"])
def test_home_runs_the_same_queries_for_1_and_50_rows(
    request,
    client_for,
    manager,
    head,
    finance,
    executive,
    runs,
    role,
    django_assert_max_num_queries,
):
    user = request.getfixturevalue(role)
    client = client_for(user)
    populate(manager, runs, 1)
    one = count_queries(client, "/")
    assert one < 15  # every page stays under 15 queries
    populate(manager, runs, 49, start=1)
    with django_assert_max_num_queries(one):
        assert client.get("/").status_code == 200


# --- reports -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("role", ["manager", "head", "finance", "executive", "admin_user"])
def test_every_report_renders_for_every_role(request, client_for, manager, runs, slug, role):
    populate(manager, runs, 2)
    client = client_for(request.getfixturevalue(role))
    response = client.get(f"/reports/{slug}/?start=2026-04-01&end=2026-11-20")
    assert response.status_code == 200
    assert b'data-testid="report-title"' in response.content


def test_reports_are_refused_to_a_user_without_a_role(client_for, outsider):
    client = client_for(outsider)
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/tiers/").status_code == 403
    assert client.get("/reports/tiers/export.xlsx").status_code == 403


def test_a_date_left_out_shows_the_default_used(client_for, executive, manager):
    sale(customer(manager, tier="A"), d(10, 5), "1000")
    refresh_summaries()
    client = client_for(executive)
    page = client.get("/reports/revenue/?start=2026-10-01").content.decode()
    assert 'name="end" value="2026-11-20"' in page and "Period 2026-10-01 – 2026-11-20" in page
    page = client.get("/reports/revenue/?end=2026-10-31&department=").content.decode()
    assert 'name="start" value="2026-01-01"' in page and 'name="end" value="2026-10-31"' in page
    # A start after today with no end: the period would end before it starts.
    page = client.get("/reports/revenue/?start=2026-12-01").content.decode()
    assert "The period must start before it ends." in page


def test_unknown_report_and_bad_filters(client_for, executive):
    client = client_for(executive)
    assert client.get("/reports/nope/").status_code == 404
    response = client.get("/reports/revenue/?start=2026-12-01&end=2026-01-01&department=x")
    assert response.status_code == 200
    assert "The period must start before it ends." in response.content.decode()


def test_a_manager_cannot_filter_on_another_department(client_for, manager, other_manager):
    customer(other_manager, tier="A")
    response = client_for(manager).get(f"/reports/tiers/?manager={other_manager.pk}")
    assert response.status_code == 200
    assert "华北大客户部" not in response.content.decode()


@pytest.mark.parametrize("slug", SLUGS)
def test_report_pages_run_the_same_queries_for_1_and_50_rows(
    client_for, executive, manager, runs, slug, django_assert_max_num_queries
):
    client = client_for(executive)
    url = f"/reports/{slug}/?start=2026-04-01&end=2026-11-20"
    populate(manager, runs, 1)
    one = count_queries(client, url)
    assert one < 15
    populate(manager, runs, 49, start=1)
    with django_assert_max_num_queries(one):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("slug", SLUGS)
def test_every_report_exports_its_table_to_excel(client_for, executive, manager, runs, slug):
    populate(manager, runs, 2)
    response = client_for(executive).get(f"/reports/{slug}/export.xlsx?start=2026-04-01")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row >= 3


def test_the_export_holds_the_figures_and_neutralises_formulas(client_for, executive, manager):
    c = customer(manager, name="=HYPERLINK(1)")
    sale(c, d(10, 1), "100000")
    sale(c, d(11, 1), "10000")
    refresh_summaries(today=TODAY)
    response = client_for(executive).get("/reports/risks/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    row = next(r for r in sheet.iter_rows() if r[0].value and "HYPERLINK" in str(r[0].value))
    assert row[0].value == "=HYPERLINK(1)" and row[0].data_type == "s"  # text, not a formula
    assert [cell.value for cell in row[3:6]] == [100000, 10000, -90]
    assert DataTransferLog.objects.filter(what="report-risks", user=executive).exists()


def test_movement_cells_link_to_their_customers(client_for, executive, manager, runs):
    populate(manager, runs, 3)
    client = client_for(executive)
    page = client.get("/reports/movement/").content.decode()
    q2, q3 = runs
    link = f"/reports/movement/customers/?run_from={q2.pk}&amp;run_to={q3.pk}&amp;from=B&amp;to=C"
    assert link in page
    listing = client.get(link.replace("&amp;", "&")).content.decode()
    assert all(f"客户{i:03d}" in listing for i in range(3))


def test_movement_customers_stay_in_scope(client_for, other_manager, manager, runs):
    populate(manager, runs, 2)
    q2, q3 = runs
    url = f"/reports/movement/customers/?run_from={q2.pk}&run_to={q3.pk}&from=B&to=C"
    assert "客户000" not in client_for(other_manager).get(url).content.decode()


def test_charts_are_inline_svg_with_labels_and_no_script(client_for, executive, manager, runs):
    populate(manager, runs, 2)
    client = client_for(executive)
    for slug in ("tiers", "movement", "visits", "revenue", "scorecard", "contracts"):
        page = client.get(f"/reports/{slug}/?start=2026-04-01").content.decode()
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart" role="img"' in page
        assert "<title" in page and "<script" not in page.split("<main", 1)[-1].split("</main>")[0]


TODAY_ISO = TODAY.isoformat()
