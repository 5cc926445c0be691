"""Where credit is decided the exposure is shown; the customer form shows credit read-only;
the credit request pages keep their query budget."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import CreditTerms, Customer
from contracts import services
from contracts.models import CreditRequest
from tests.contracts.factories import admitted_customer, approve_all, draft_contract

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 2, 10), tick=False):
        yield


@pytest.fixture
def owing(manager, head, finance):
    """A credit customer (limit ¥400,000) owing ¥250,000, ¥50,000 of it overdue."""
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("400000")
    )
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=customer,
        plan=[(D(2026, 1, 20), 100000), (D(2026, 3, 1), 200000)],
    )
    pay(contract, manager, 50000, D(2026, 1, 25), confirm_by=finance)
    return customer, contract


def exposure_text(response) -> dict:
    exposure = response.context["exposure"]
    return {"balance": exposure.balance, "overdue": exposure.overdue}


def test_the_contract_approval_step_shows_the_exposure_and_the_excess(
    client_for, manager, head, finance, owing
):
    customer, _contract = owing
    contract = draft_contract(owner=manager, customer=customer, amount="200000")
    services.contract_submit(contract=contract, submitted_by=manager)
    approve_all(contract, head)  # the head's step; finance's (over the limit) is current
    response = client_for(finance).get(contract.get_absolute_url())
    page = response.content.decode()
    assert response.context["can_decide"]
    assert exposure_text(response) == {
        "balance": Decimal("250000.00"),
        "overdue": Decimal("50000.00"),
    }
    assert response.context["would_exceed"]  # 250,000 + 200,000 > 400,000
    assert 'data-testid="exposure-balance">¥250,000.00' in page
    assert 'data-testid="exposure-overdue">¥50,000.00' in page
    assert "Over the credit limit with this amount" in page


def test_a_contract_within_the_limit_says_so(client_for, manager, head, owing):
    customer, _contract = owing
    contract = draft_contract(owner=manager, customer=customer, amount="100000")
    services.contract_submit(contract=contract, submitted_by=manager)
    response = client_for(head).get(contract.get_absolute_url())
    assert not response.context["would_exceed"]
    assert "Within the credit limit" in response.content.decode()


def test_the_collection_confirmation_list_shows_each_customers_exposure(
    client_for, manager, finance, owing
):
    _customer, contract = owing
    pay(contract, manager, 10000, D(2026, 2, 9))  # not yet confirmed
    response = client_for(finance).get(reverse("contracts:receivables_unconfirmed"))
    (row,) = response.context["collections"]
    assert (row.exposure.balance, row.exposure.overdue) == (
        Decimal("250000.00"),
        Decimal("50000.00"),
    )
    page = response.content.decode()
    assert 'data-testid="exposure-balance">¥250,000.00' in page
    assert 'data-testid="exposure-overdue">¥50,000.00' in page


def test_the_contract_collections_section_shows_the_exposure(client_for, finance, owing):
    _customer, contract = owing
    response = client_for(finance).get(contract.get_absolute_url())
    assert 'data-testid="exposure-balance">¥250,000.00' in response.content.decode()


def test_the_collection_list_keeps_its_query_budget(
    client_for, manager, head, finance, django_assert_max_num_queries
):
    url = reverse("contracts:receivables_unconfirmed")
    client = client_for(finance)
    for index in range(12):
        customer = admitted_customer(
            manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("9000000")
        )
        contract = contract_in_force(
            manager=manager, head=head, customer=customer, plan=[(D(2026, 3, 1), 300000)]
        )
        pay(contract, manager, 1000 + index, D(2026, 2, 9))
        if index == 0:
            client.get(url)  # warm the caches
            with django_assert_max_num_queries(14) as one:
                client.get(url)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["collections"]) == 12


# --- The customer form shows credit, never edits it ----------------------------------------


def test_a_manager_posting_a_credit_limit_on_the_edit_form_changes_nothing(client_for, manager):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.PREPAID, name="厦门鹭岛物流有限公司"
    )
    response = client_for(manager).post(
        reverse("accounts:customer_edit", args=[customer.pk]),
        {
            "name": "厦门鹭岛物流有限公司",
            "customer_type": customer.customer_type,
            "industry": customer.industry,
            "source_channel": customer.source_channel,
            "credit_terms": "credit",
            "credit_limit": "50000000",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.credit_terms, customer.credit_limit) == ("prepaid", Decimal("0"))
    page = client_for(manager).get(reverse("accounts:customer_edit", args=[customer.pk]))
    assert "credit_limit" not in page.context["form"].fields
    assert 'name="credit_limit"' not in page.content.decode()
    assert 'data-testid="credit-readonly"' in page.content.decode()


def test_a_new_customer_starts_prepaid_without_a_limit(client_for, manager):
    response = client_for(manager).post(
        reverse("accounts:customer_create"),
        {
            "name": "泉州刺桐纺织有限公司",
            "credit_code": "91350100M000100Y43",
            "customer_type": "enterprise",
            "industry": "manufacturing",
            "source_channel": "referral",
            "department": manager.department_id,
            "credit_terms": "credit",
            "credit_limit": "9000000",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="泉州刺桐纺织有限公司")
    assert (customer.credit_terms, customer.credit_limit) == ("prepaid", Decimal("0"))


def test_the_services_refuse_credit_fields_outside_a_request(manager):
    from accounts import services as accounts_services
    from accounts.errors import BusinessRuleError

    customer = admitted_customer(manager=manager)
    with pytest.raises(BusinessRuleError):
        accounts_services.customer_update(
            customer=customer, updated_by=manager, credit_limit=Decimal("1")
        )
    with pytest.raises(BusinessRuleError):
        accounts_services.customer_create(
            created_by=manager, name="x", department=manager.department, credit_terms="credit"
        )
    customer.refresh_from_db()
    assert customer.credit_limit == 0


# --- Credit request pages ------------------------------------------------------------------


def test_the_waiting_list_has_an_empty_state(client_for, finance):
    response = client_for(finance).get(reverse("contracts:credit_requests"))
    assert response.status_code == 200
    assert 'data-testid="empty-state"' in response.content.decode()


def test_the_waiting_list_pages_and_keeps_its_query_budget(
    client_for, manager, finance, django_assert_max_num_queries
):
    client = client_for(finance)
    url = reverse("contracts:credit_requests")

    def propose():
        services.credit_request_submit(
            customer=admitted_customer(manager=manager),
            proposed_by=manager,
            credit_terms="credit",
            credit_limit=Decimal("100000"),
            reason="年度框架合同",
        )

    propose()
    client.get(url)
    with django_assert_max_num_queries(14) as one:
        assert len(client.get(url).context["credit_requests"]) == 1
    for _ in range(29):
        propose()
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["credit_requests"]) == 25
    assert response.context["paginator"].num_pages == 2
    assert len(client.get(url + "?page=2").context["credit_requests"]) == 5
    assert client.get(url + "?list=nonsense").status_code == 404


def test_the_request_detail_keeps_its_query_budget(
    client_for, manager, finance, django_assert_max_num_queries
):
    services.credit_request_submit(
        customer=admitted_customer(manager=manager),
        proposed_by=manager,
        credit_terms="credit",
        credit_limit=Decimal("100000"),
        reason="年度框架合同",
    )
    url = CreditRequest.objects.get().get_absolute_url()
    client = client_for(finance)
    client.get(url)
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200


def test_each_decider_waits_for_their_own_step(client_for, manager, finance, executive):
    customer = admitted_customer(manager=manager)
    credit_request = services.credit_request_submit(
        customer=customer,
        proposed_by=manager,
        credit_terms="credit",
        credit_limit=Decimal("6000000"),
        reason="战略客户",
    )
    url = reverse("contracts:credit_requests")
    assert list(client_for(executive).get(url).context["credit_requests"]) == []
    assert len(client_for(finance).get(url).context["credit_requests"]) == 1
    services.credit_request_decide(
        credit_request=credit_request, decided_by=finance, approve=True, comment=""
    )
    assert list(client_for(finance).get(url).context["credit_requests"]) == []
    assert [r.pk for r in client_for(executive).get(url).context["credit_requests"]] == [
        credit_request.pk
    ]


def test_someone_with_no_customers_sees_an_empty_list(client_for, manager, outsider):
    services.credit_request_submit(
        customer=admitted_customer(manager=manager),
        proposed_by=manager,
        credit_terms="credit",
        credit_limit=Decimal("100000"),
        reason="年度框架合同",
    )
    response = client_for(outsider).get(reverse("contracts:credit_requests"))
    assert response.status_code == 200
    assert list(response.context["credit_requests"]) == []


def test_credit_requests_are_read_only_in_admin(client_for, manager, admin_user):
    services.credit_request_submit(
        customer=admitted_customer(manager=manager),
        proposed_by=manager,
        credit_terms="credit",
        credit_limit=Decimal("100000"),
        reason="年度框架合同",
    )
    credit_request = CreditRequest.objects.get()
    client = client_for(admin_user)
    assert client.get(reverse("admin:contracts_creditrequest_add")).status_code == 403
    change_url = reverse("admin:contracts_creditrequest_change", args=[credit_request.pk])
    response = client.post(change_url, {"status": "approved", "new_limit": "99999999"})
    assert response.status_code == 403
    delete_url = reverse("admin:contracts_creditrequest_delete", args=[credit_request.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    credit_request.refresh_from_db()
    assert (credit_request.status, credit_request.new_limit) == (
        "pending_finance",
        Decimal("100000.00"),
    )
