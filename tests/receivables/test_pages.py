"""The receivables pages: lists by scope with ageing, plan form, collections, customer tab."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from contracts.models import Collection, PaymentInstalment
from tests.contracts.factories import admitted_customer, draft_contract
from tests.helpers import page_messages

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date
PLAN = [(D(2026, 1, 20), 100000), (D(2026, 3, 1), 200000)]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 2, 10), tick=False):
        yield


@pytest.fixture
def contract(manager, head):
    return contract_in_force(manager=manager, head=head, plan=PLAN)


@pytest.mark.parametrize(
    ("url_name", "allowed", "refused"),
    [
        ("contracts:receivables", ["manager", "head", "finance", "executive", "outsider"], []),
        ("contracts:receivables_department", ["head"], ["manager", "finance", "outsider"]),
        ("contracts:receivables_company", ["finance", "executive", "admin_user"], ["head"]),
        ("contracts:receivables_unconfirmed", ["finance"], []),
    ],
)
def test_lists_by_role(request, client_for, url_name, allowed, refused):
    for name in allowed:
        response = client_for(request.getfixturevalue(name)).get(reverse(url_name))
        assert response.status_code == 200, name
    for name in refused:
        response = client_for(request.getfixturevalue(name)).get(reverse(url_name))
        assert response.status_code == 404, name


def test_the_unconfirmed_list_is_for_finance(client_for, manager):
    assert client_for(manager).get(reverse("contracts:receivables_unconfirmed")).status_code == 403


def test_my_list_shows_overdue_first_with_its_bucket(client_for, manager, contract):
    response = client_for(manager).get(reverse("contracts:receivables"))
    rows = list(response.context["instalments"])
    assert [(row.code, row.state, row.bucket) for row in rows] == [
        (f"{contract.number}/1", "overdue", "0-30"),
        (f"{contract.number}/2", "open", ""),
    ]
    assert response.context["total"]["b0"] == 100000
    filtered = client_for(manager).get(reverse("contracts:receivables"), {"state": "overdue"})
    assert len(filtered.context["instalments"]) == 1


def test_the_department_list_groups_by_owner(client_for, head, manager, contract):
    response = client_for(head).get(reverse("contracts:receivables_department"))
    assert [(row["name"], row["total"]) for row in response.context["groups"]] == [
        (manager, 300000)
    ]


def test_others_do_not_see_the_receivables(client_for, other_manager, contract):
    response = client_for(other_manager).get(reverse("contracts:receivables"))
    assert list(response.context["instalments"]) == []
    plan = client_for(other_manager).get(reverse("contracts:plan", args=[contract.pk]))
    assert plan.status_code == 404


def test_the_company_list_runs_the_same_queries_for_1_and_30_contracts(
    client_for, executive, manager, head, django_assert_max_num_queries
):
    contract_in_force(manager=manager, head=head, plan=PLAN)
    client = client_for(executive)
    client.get(reverse("contracts:receivables_company"))  # warm the session
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("contracts:receivables_company"))
    customer = admitted_customer(manager=manager)
    for _ in range(14):
        contract_in_force(manager=manager, head=head, customer=customer, plan=PLAN)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("contracts:receivables_company"))
    assert response.context["paginator"].count == 30


def test_a_plan_that_does_not_add_up_is_explained_on_the_form(client_for, manager):
    contract = draft_contract(owner=manager, customer=admitted_customer(manager=manager))
    data = {
        "plan-TOTAL_FORMS": "2",
        "plan-INITIAL_FORMS": "0",
        "plan-MIN_NUM_FORMS": "1",
        "plan-MAX_NUM_FORMS": "60",
        "plan-0-due_date": "2026-03-01",
        "plan-0-amount": "100000",
        "plan-1-due_date": "2026-06-01",
        "plan-1-amount": "100000",
    }
    url = reverse("contracts:plan", args=[contract.pk])
    response = client_for(manager).post(url, data)
    assert response.status_code == 200
    assert "¥300,000.00" in response.content.decode()
    assert not PaymentInstalment.objects.exists()
    data["plan-1-amount"] = "400000"
    response = client_for(manager).post(url, data)
    assert response.status_code == 302
    assert contract.instalments.count() == 2


def test_record_then_confirm_a_payment(client_for, manager, finance, contract):
    url = reverse("contracts:collection_add", args=[contract.pk])
    response = client_for(manager).post(
        url,
        {"received_on": "2026-02-09", "amount": "50000", "method": "bank_transfer"},
    )
    assert response.status_code == 302
    collection = Collection.objects.get()
    confirm = reverse("contracts:collection_confirm", args=[collection.pk])
    assert client_for(manager).post(confirm).status_code == 403
    response = client_for(finance).post(confirm, follow=True)
    assert page_messages(response)
    collection.refresh_from_db()
    assert collection.confirmed_by == finance
    detail = client_for(manager).get(contract.get_absolute_url())
    assert detail.context["instalments"][0].paid_amount == 50000


def test_an_over_payment_is_explained_on_the_form(client_for, manager, contract):
    response = client_for(manager).post(
        reverse("contracts:collection_add", args=[contract.pk]),
        {"received_on": "2026-02-09", "amount": "300001", "method": "bank_transfer"},
    )
    assert response.status_code == 200
    assert "¥1.00" in response.content.decode()


def test_the_customer_tab_shows_ageing_and_payment_record(client_for, manager, finance, contract):
    pay(contract, manager, 100000, D(2026, 1, 20), confirm_by=finance)
    response = client_for(manager).get(contract.customer.get_absolute_url(), {"tab": "receivables"})
    assert response.status_code == 200
    assert response.context["total"]["total"] == 200000
    assert 'data-testid="customer-instalments"' in response.content.decode()


def test_the_export_has_the_filtered_rows(client_for, manager, contract):
    import io

    from openpyxl import load_workbook

    response = client_for(manager).get(
        reverse("contracts:receivables_export"), {"state": "overdue"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == contract.number


def test_the_export_is_scoped_like_the_list(client_for, manager):
    response = client_for(manager).get(reverse("contracts:receivables_company_export"))
    assert response.status_code == 404


def test_finance_confirms_from_the_waiting_list(client_for, manager, finance, contract):
    pay(contract, manager, 1000, D(2026, 2, 9))
    url = reverse("contracts:receivables_unconfirmed")
    response = client_for(finance).get(url)
    assert len(response.context["collections"]) == 1
    collection = Collection.objects.get()
    response = client_for(finance).post(
        reverse("contracts:collection_confirm", args=[collection.pk]), {"next": url}
    )
    assert response.url == url
    assert list(client_for(finance).get(url).context["collections"]) == []


def test_a_confirmation_never_redirects_to_another_site(client_for, manager, finance, contract):
    pay(contract, manager, 1000, D(2026, 2, 9))
    collection = Collection.objects.get()
    response = client_for(finance).post(
        reverse("contracts:collection_confirm", args=[collection.pk]),
        {"next": "https://evil.example/phish"},
    )
    assert response.url == contract.get_absolute_url()


def test_finance_grants_a_credit_override_from_the_page(client_for, finance, manager):
    from accounts.models import CreditTerms

    customer = admitted_customer(manager=manager, credit_terms=CreditTerms.CREDIT)
    url = reverse("contracts:credit_override", args=[customer.pk])
    assert client_for(manager).get(url).status_code == 403
    assert client_for(finance).get(url).status_code == 200
    response = client_for(finance).post(url, {"max_amount": "5000", "reason": "年底备货"})
    assert response.status_code == 302
    assert customer.credit_overrides.get().approved_by == finance
