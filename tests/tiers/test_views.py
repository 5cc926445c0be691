"""The review cycle through the pages, each step refused to a role that lacks it."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Customer
from tiers import services
from tiers.models import Appeal, Assessment, Grade, GradingRun

from .factories import SHANGHAI, big_profit_customer, key_account, worked_example_customer

OCT_2 = datetime.datetime(2026, 10, 2, 9, tzinfo=SHANGHAI)


@pytest.fixture
def customers(db, east, north, manager, other_manager):
    example = worked_example_customer(department=east, primary_manager=manager)
    big_profit_customer(department=north, primary_manager=other_manager)
    return example


def test_the_full_review_cycle(
    customers, client_for, admin_user, executive, head, other_head, manager, other_manager, finance
):
    compute = reverse("tiers:run_compute")
    assert client_for(head).post(compute, {"period": "2026Q3"}).status_code == 403
    assert client_for(manager).post(compute, {"period": "2026Q3"}).status_code == 403
    response = client_for(executive).post(compute, {"period": "2026Q3"})
    run = GradingRun.objects.get()
    assert response.status_code == 302 and response.url == run.get_absolute_url()

    review = reverse("tiers:run_start_review", args=[run.pk])
    assert client_for(head).post(review).status_code == 403
    assert client_for(executive).post(review).status_code == 302

    grade = Grade.objects.get(customer=customers)
    override = reverse("tiers:grade_override", args=[grade.pk])
    assert client_for(other_head).get(override).status_code == 404  # not their department
    assert client_for(manager).get(override).status_code == 403
    assert client_for(finance).get(override).status_code == 403
    page = client_for(head).post(override, {"tier": "B", "reason": ""})
    assert page.status_code == 200  # the form asks for the reason
    response = client_for(head).post(override, {"tier": "B", "reason": "Strategic account"})
    assert response.status_code == 302
    grade.refresh_from_db()
    assert (grade.tier, grade.override_reason) == ("B", "Strategic account")

    publish = reverse("tiers:run_publish", args=[run.pk])
    for user in (head, manager, finance):
        assert client_for(user).post(publish).status_code == 403
    with time_machine.travel(OCT_2):
        assert client_for(admin_user).post(publish).status_code == 302
    customer = Customer.objects.get(pk=customers.pk)
    assert customer.tier == "B"

    page = client_for(manager).get(customer.get_absolute_url() + "?tab=tier")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="tier-history"' in html and "65.9" in html
    assert 'data-testid="breakdown"' in html

    appeal_url = reverse("tiers:grade_appeal", args=[grade.pk])
    assert client_for(other_manager).get(appeal_url).status_code == 404
    assert client_for(head).get(appeal_url).status_code == 403  # heads decide, managers appeal
    with time_machine.travel(OCT_2 + datetime.timedelta(days=2)):
        response = client_for(manager).post(
            appeal_url, {"requested_tier": "A", "reason": "Signed a 3-year framework contract"}
        )
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response.url == appeal.get_absolute_url()

    decide = appeal.get_absolute_url()
    assert client_for(manager).post(decide, {"decision": "uphold"}).status_code == 403
    assert client_for(other_head).post(decide, {"decision": "uphold"}).status_code == 404
    response = client_for(head).post(decide, {"decision": "uphold", "comment": "Agreed"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customers.pk).tier == "A"
    page = client_for(manager).get(customer.get_absolute_url() + "?tab=tier")
    assert "appeal" in page.content.decode().lower()


def test_a_bad_period_from_the_page_is_a_message(db, client_for, executive):
    response = client_for(executive).post(
        reverse("tiers:run_compute"), {"period": "2026Q5"}, follow=True
    )
    assert "2026Q3" in response.content.decode()
    assert not GradingRun.objects.exists()


def test_a_manager_sees_only_their_customers_grades(customers, client_for, manager, executive):
    run = services.grading_run_compute(period="2026Q3")
    page = client_for(manager).get(run.get_absolute_url())
    assert page.context["paginator"].count == 1
    page = client_for(executive).get(run.get_absolute_url())
    assert page.context["paginator"].count == 2


def test_run_detail_filters(customers, client_for, executive):
    run = services.grading_run_compute(period="2026Q3")
    client = client_for(executive)
    assert client.get(run.get_absolute_url() + "?incomplete=true").context["paginator"].count == 1
    assert client.get(run.get_absolute_url() + "?tier=C").context["paginator"].count == 1
    assert client.get(run.get_absolute_url() + "?movement=up").context["paginator"].count == 0
    assert client.get(run.get_absolute_url() + "?movement=new").context["paginator"].count == 2


@pytest.mark.parametrize("count", [1, 30])
def test_run_detail_queries_do_not_grow_with_rows(
    db, east, head, client_for, count, django_assert_max_num_queries
):
    for _ in range(count):
        key_account(department=east)
    run = services.grading_run_compute(period="2026Q3")
    client = client_for(head)
    with django_assert_max_num_queries(12):
        assert client.get(run.get_absolute_url()).status_code == 200


def test_the_manager_enters_assessments_with_previous_values(customers, client_for, manager):
    url = reverse("tiers:customer_assess", args=[customers.pk])
    page = client_for(manager).get(url)
    assert page.status_code == 200 and "80.0" in page.content.decode()
    response = client_for(manager).post(
        url, {"growth_trend__value": "92.5", "growth_trend__note": "New plant"}
    )
    assert response.status_code == 302
    latest = Assessment.objects.filter(customer=customers, indicator_code="growth_trend").first()
    assert (latest.value, latest.note, latest.assessed_by) == (92.5, "New plant", manager)
    bad = client_for(manager).post(url, {"growth_trend__value": "101"})
    assert bad.status_code == 200


def test_assessment_refused_to_others(customers, client_for, other_manager, finance):
    url = reverse("tiers:customer_assess", args=[customers.pk])
    assert client_for(other_manager).get(url).status_code == 404
    assert client_for(finance).get(url).status_code == 403


@pytest.mark.parametrize("name", ["tiers:run_list", "tiers:model_list", "tiers:appeal_list"])
def test_lists_render(db, client_for, manager, name):
    assert client_for(manager).get(reverse(name)).status_code == 200


def test_model_page_shows_the_default_model(db, client_for, manager, default_model):
    page = client_for(manager).get(default_model.get_absolute_url())
    assert page.status_code == 200
    assert "annual_purchase" in page.content.decode()


def test_an_anonymous_user_is_sent_to_log_in(db, client):
    assert client.get(reverse("tiers:run_list")).status_code == 302


def test_a_user_without_a_role_is_refused_a_grading_run(client_for, outsider, manager):
    from tests.dashboard.factories import run

    published = run("2026Q3")
    assert client_for(outsider).get(f"/tiers/runs/{published.pk}/").status_code == 403
    assert client_for(manager).get(f"/tiers/runs/{published.pk}/").status_code == 200
