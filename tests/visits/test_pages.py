"""The pages: lists, calendar, move/cancel forms, the customer tab, access and query counts."""

from datetime import date, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Customer
from accounts.selectors import with_pool_activity
from visits.models import PlannedVisit, VisitStatus
from visits.services import feedback_submit

from .factories import active_customer, at

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(TODAY), tick=False):
        yield


def plan(customer, due):
    return PlannedVisit.objects.create(
        customer=customer, due_date=due, assigned_to=customer.primary_manager
    )


def test_my_visits_list_overdue_first(client_for, manager, manager2):
    later = plan(active_customer(manager, name="后"), TODAY + timedelta(days=10))
    overdue = plan(active_customer(manager, name="逾"), TODAY - timedelta(days=5))
    plan(active_customer(manager2, name="别人的"), TODAY)
    response = client_for(manager).get(reverse("visits:list"))
    assert list(response.context["visits"]) == [overdue, later]
    assert response.content.decode().count('data-overdue="1"') == 1


def test_a_head_sees_the_departments_visits(client_for, head, manager, manager2, other_manager):
    mine = plan(active_customer(manager), TODAY)
    theirs = plan(active_customer(manager2), TODAY + timedelta(days=1))
    plan(active_customer(other_manager), TODAY)
    response = client_for(head).get(reverse("visits:list") + "?scope=department")
    assert list(response.context["visits"]) == [mine, theirs]
    # A manager asking for the department view gets their own.
    response = client_for(manager).get(reverse("visits:list") + "?scope=department")
    assert list(response.context["visits"]) == [mine]


def test_the_list_filters_overdue_only(client_for, manager):
    overdue = plan(active_customer(manager), TODAY - timedelta(days=1))
    plan(active_customer(manager), TODAY)
    response = client_for(manager).get(reverse("visits:list") + "?overdue=true")
    assert list(response.context["visits"]) == [overdue]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_runs_the_same_queries_for_1_and_many_rows(
    client_for, manager, rows, django_assert_max_num_queries
):
    for n in range(rows):
        plan(active_customer(manager), TODAY - timedelta(days=n))
    client = client_for(manager)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("visits:list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("visits:calendar")).status_code == 200


def test_the_calendar_puts_visits_on_their_days(client_for, manager):
    visit = plan(active_customer(manager, name="日历客户"), date(2026, 11, 25))
    early = plan(active_customer(manager, name="逾期客户"), date(2026, 11, 2))
    response = client_for(manager).get(reverse("visits:calendar") + "?month=2026-11")
    cells = {day: visits for week in response.context["weeks"] for day, visits in week}
    assert cells[date(2026, 11, 25)] == [visit]
    assert response.context["overdue"] == [early]
    assert len(response.context["weeks"][0]) == 7
    bad = client_for(manager).get(reverse("visits:calendar") + "?month=junk")
    assert bad.status_code == 200 and bad.context["month"] == date(2026, 11, 1)


def test_moving_and_cancelling_from_the_pages(client_for, manager, other_manager):
    visit = plan(active_customer(manager), TODAY)
    move = reverse("visits:plan_move", args=[visit.pk])
    assert client_for(other_manager).get(move).status_code == 404
    response = client_for(manager).post(move, {"new_date": "2026-12-01", "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    response = client_for(manager).post(move, {"new_date": "2026-12-01", "reason": "客户出差"})
    assert response.status_code == 302
    successor = PlannedVisit.objects.open().get(customer=visit.customer)
    assert successor.due_date == date(2026, 12, 1)
    response = client_for(manager).post(
        reverse("visits:plan_cancel", args=[successor.pk]), {"reason": "客户停产"}
    )
    assert response.status_code == 302
    successor.refresh_from_db()
    assert successor.status == VisitStatus.CANCELLED


@pytest.mark.parametrize(
    "name",
    ["visits:list", "visits:calendar", "visits:care_list", "visits:feedback_create",
     "visits:feedback_compliance", "visits:archive_checks"],
)  # fmt: skip
def test_every_page_opens_for_each_role(
    client_for, name, manager, head, executive, finance, admin_user, outsider
):
    for user in (manager, head, executive, finance, admin_user, outsider):
        assert client_for(user).get(reverse(name)).status_code == 200, user


def test_the_pages_need_a_login(client):
    assert client.get(reverse("visits:list")).status_code == 302


def test_the_home_partial_lists_my_overdue_visits(rf: RequestFactory, manager, manager2):
    overdue = plan(active_customer(manager, name="逾期甲"), TODAY - timedelta(days=2))
    plan(active_customer(manager, name="未到期"), TODAY + timedelta(days=2))
    plan(active_customer(manager2, name="别人逾期"), TODAY - timedelta(days=2))
    request = rf.get("/")
    request.user = manager
    html = Template("{% load visits_tags %}{% my_overdue %}").render(Context({"request": request}))
    assert overdue.customer.name in html
    assert "未到期" not in html and "别人逾期" not in html


def test_the_customer_tab_opens_for_those_who_see_the_customer(client_for, manager, finance):
    customer = active_customer(manager)
    plan(customer, TODAY - timedelta(days=1))
    url = customer.get_absolute_url() + "?tab=visits"
    response = client_for(manager).get(url)
    assert response.status_code == 200 and 'data-testid="next-visit"' in response.content.decode()
    record_url = reverse("visits:record_create", args=[customer.pk])
    assert record_url in response.content.decode()
    response = client_for(finance).get(url)
    assert response.status_code == 200 and record_url not in response.content.decode()


def test_visits_and_feedback_count_as_contact_for_the_pool(manager):
    customer = active_customer(manager)
    Customer.objects.filter(pk=customer.pk).update(created_at=at(date(2026, 1, 1)))
    feedback_submit(customer=customer, submitted_by=manager, category="market", content="x")
    row = with_pool_activity(Customer.objects.filter(pk=customer.pk)).get()
    assert row.last_contact == TODAY
