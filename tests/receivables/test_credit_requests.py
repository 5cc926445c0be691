"""Credit requests (信用申请): the manager proposes, finance decides, an executive too above
the policy's amount; the approved terms reach the customer, in its history."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.errors import BusinessRuleError
from accounts.models import CreditTerms, Customer
from accounts.permissions import Role
from contracts import services
from contracts.models import CreditPolicy, CreditRequest, CreditRequestStatus
from notifications.models import Notification
from tests.contracts.factories import admitted_customer
from tests.factories import UserFactory
from tests.helpers import page_messages

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 2, 10), tick=False):
        yield


@pytest.fixture
def customer(manager):
    return admitted_customer(manager=manager)


def propose(customer, user, limit="1000000", terms=CreditTerms.CREDIT, reason="年度框架合同"):
    return services.credit_request_submit(
        customer=customer,
        proposed_by=user,
        credit_terms=terms,
        credit_limit=Decimal(limit),
        reason=reason,
    )


def decide(credit_request, user, approve=True, comment="同意"):
    return services.credit_request_decide(
        credit_request=credit_request, decided_by=user, approve=approve, comment=comment
    )


def snapshot():
    """Everything a refused attempt must leave as it was."""
    return (
        list(CreditRequest.objects.values()),
        list(Customer.objects.values_list("pk", "credit_terms", "credit_limit")),
        Notification.objects.count(),
    )


def test_a_manager_proposes_and_finance_approves_through_the_pages(
    client_for, manager, head, finance, customer
):
    # Exposure at the time: ¥100,000 overdue of a ¥300,000 contract, ¥50,000 of it paid.
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=customer,
        plan=[(D(2026, 1, 20), 100000), (D(2026, 3, 1), 200000)],
    )
    pay(contract, manager, 50000, D(2026, 1, 25), confirm_by=finance)
    tab = client_for(manager).get(customer.get_absolute_url() + "?tab=receivables")
    create_url = reverse("contracts:credit_request_create", args=[customer.pk])
    assert create_url in tab.content.decode()
    response = client_for(manager).post(
        create_url, {"credit_terms": "credit", "credit_limit": "1000000", "reason": "年度框架合同"}
    )
    credit_request = CreditRequest.objects.get()
    assert response.url == credit_request.get_absolute_url()
    assert (credit_request.status, credit_request.proposed_by) == (
        CreditRequestStatus.PENDING_FINANCE,
        manager,
    )
    assert (credit_request.old_terms, credit_request.old_limit) == ("prepaid", Decimal("0"))
    assert (credit_request.proposed_balance, credit_request.proposed_overdue) == (
        Decimal("250000.00"),
        Decimal("50000.00"),
    )
    assert Notification.objects.filter(
        recipient=finance, link=credit_request.get_absolute_url()
    ).exists()
    waiting = client_for(finance).get(reverse("contracts:credit_requests"))
    assert [row.pk for row in waiting.context["credit_requests"]] == [credit_request.pk]
    detail = client_for(finance).get(credit_request.get_absolute_url())
    assert detail.context["can_decide"]
    assert detail.context["exposure"].balance == Decimal("250000.00")

    response = client_for(finance).post(
        reverse("contracts:credit_request_decide", args=[credit_request.pk]),
        {"decision": "approve", "comment": "回款记录良好"},
    )
    assert response.status_code == 302
    credit_request.refresh_from_db()
    assert credit_request.status == CreditRequestStatus.APPROVED
    assert (credit_request.finance_by, credit_request.finance_comment) == (finance, "回款记录良好")
    assert credit_request.finance_at is not None
    assert credit_request.finance_balance == Decimal("250000.00")
    customer.refresh_from_db()
    assert (customer.credit_terms, customer.credit_limit) == ("credit", Decimal("1000000.00"))
    latest = customer.history.first()
    assert latest.history_user == finance
    assert "Credit request approved" in latest.history_change_reason
    assert Notification.objects.filter(recipient=manager, link=credit_request.get_absolute_url())


def test_above_the_amount_an_executive_decides_after_finance(manager, finance, executive, customer):
    credit_request = propose(customer, manager, limit="6000000")
    assert credit_request.needs_executive
    decide(credit_request, finance)
    credit_request.refresh_from_db()
    customer.refresh_from_db()
    assert credit_request.status == CreditRequestStatus.PENDING_EXECUTIVE
    assert customer.credit_limit == 0  # not applied before the executive decides
    assert Notification.objects.filter(recipient=executive).exists()
    with pytest.raises(BusinessRuleError, match="already decided"):
        decide(credit_request, finance)  # finance's step is done
    decide(credit_request, executive, comment="战略客户")
    credit_request.refresh_from_db()
    customer.refresh_from_db()
    assert credit_request.status == CreditRequestStatus.APPROVED
    assert (credit_request.executive_by, credit_request.executive_comment) == (
        executive,
        "战略客户",
    )
    assert credit_request.executive_balance == Decimal("0")
    assert (customer.credit_terms, customer.credit_limit) == ("credit", Decimal("6000000.00"))


def test_at_the_amount_finance_alone_decides(manager, finance, customer):
    credit_request = propose(customer, manager, limit="5000000")
    assert not credit_request.needs_executive
    decide(credit_request, finance)
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("5000000.00")


def test_the_amount_is_data_an_admin_sets(manager, finance, customer):
    CreditPolicy.objects.create(executive_above=Decimal("1000000"))
    credit_request = propose(customer, manager, limit="2000000")
    assert credit_request.needs_executive
    decide(credit_request, finance)
    credit_request.refresh_from_db()
    assert credit_request.status == CreditRequestStatus.PENDING_EXECUTIVE


def test_an_executive_rejection_leaves_the_customer_as_it_was(
    manager, finance, executive, customer
):
    credit_request = propose(customer, manager, limit="8000000")
    decide(credit_request, finance)
    with pytest.raises(BusinessRuleError, match="reason"):
        decide(credit_request, executive, approve=False, comment=" ")
    decide(credit_request, executive, approve=False, comment="逾期太多")
    credit_request.refresh_from_db()
    customer.refresh_from_db()
    assert credit_request.status == CreditRequestStatus.REJECTED
    assert (customer.credit_terms, customer.credit_limit) == ("prepaid", Decimal("0"))
    assert Notification.objects.filter(recipient=manager, message__contains="逾期太多").exists()


def test_only_the_customers_managers_and_head_may_propose(
    client_for, customer, manager, head, finance, executive, manager2
):
    url = reverse("contracts:credit_request_create", args=[customer.pk])
    data = {"credit_terms": "credit", "credit_limit": "100000", "reason": "x"}
    before = snapshot()
    for user in (finance, executive, manager2):  # manager2: not this customer's manager
        response = client_for(user).post(url, data)
        assert response.status_code in (403, 404), user
    with pytest.raises(PermissionDenied):
        propose(customer, finance)
    assert snapshot() == before
    assert client_for(head).get(url).status_code == 200
    tab = client_for(finance).get(customer.get_absolute_url() + "?tab=receivables")
    assert url not in tab.content.decode()


def test_a_customer_out_of_scope_is_not_found(client_for, customer, manager, other_manager):
    credit_request = propose(customer, manager)
    before = snapshot()
    client = client_for(other_manager)
    create_url = reverse("contracts:credit_request_create", args=[customer.pk])
    assert client.get(create_url).status_code == 404
    assert client.post(create_url, {"credit_terms": "credit", "credit_limit": "1"}).status_code == (
        404
    )
    assert client.get(credit_request.get_absolute_url()).status_code == 404
    decide_url = reverse("contracts:credit_request_decide", args=[credit_request.pk])
    assert client.post(decide_url, {"decision": "approve"}).status_code == 404
    listed = client.get(reverse("contracts:credit_requests") + "?list=open")
    assert list(listed.context["credit_requests"]) == []
    assert snapshot() == before


def test_nobody_decides_their_own_request(client_for, east, customer):
    # A manager who also holds the finance role proposes for their own customer.
    both = UserFactory(
        username="am_fin", department=east, roles=[Role.ACCOUNT_MANAGER, Role.FINANCE]
    )
    customer.assistant_manager = both
    customer.save()
    credit_request = propose(customer, both)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        decide(credit_request, both)
    response = client_for(both).post(
        reverse("contracts:credit_request_decide", args=[credit_request.pk]),
        {"decision": "approve", "comment": ""},
    )
    assert response.status_code == 403
    assert not client_for(both).get(credit_request.get_absolute_url()).context["can_decide"]
    assert snapshot() == before


def test_the_wrong_role_may_not_decide(client_for, customer, manager, head, executive):
    credit_request = propose(customer, manager)
    before = snapshot()
    url = reverse("contracts:credit_request_decide", args=[credit_request.pk])
    for user in (head, executive):  # the executive's turn comes after finance, if at all
        response = client_for(user).post(url, {"decision": "approve", "comment": "ok"})
        assert response.status_code == 403, user
    assert snapshot() == before


def test_a_decided_request_is_not_decided_again(client_for, customer, manager, finance):
    credit_request = propose(customer, manager)
    decide(credit_request, finance)
    before = snapshot()
    other = UserFactory(username="finance2", roles=[Role.FINANCE])
    response = client_for(other).post(
        reverse("contracts:credit_request_decide", args=[credit_request.pk]),
        {"decision": "reject", "comment": "不同意"},
    )
    assert response.status_code == 302
    assert snapshot() == before


def test_a_decided_request_says_so_on_its_page(client_for, customer, manager, finance):
    credit_request = propose(customer, manager)
    decide(credit_request, finance)
    other = UserFactory(username="finance2", roles=[Role.FINANCE])
    response = client_for(other).post(
        reverse("contracts:credit_request_decide", args=[credit_request.pk]),
        {"decision": "approve", "comment": ""},
        follow=True,
    )
    assert page_messages(response) == ["This credit request has already been decided."]


def test_one_open_request_per_customer_and_real_changes_only(customer, manager, head):
    with pytest.raises(BusinessRuleError, match="current terms"):
        propose(customer, manager, limit="0", terms=CreditTerms.PREPAID)
    with pytest.raises(BusinessRuleError, match="no credit limit"):
        propose(customer, manager, limit="100", terms=CreditTerms.PREPAID)
    with pytest.raises(BusinessRuleError, match="reason"):
        propose(customer, manager, reason="  ")
    propose(customer, manager)
    with pytest.raises(BusinessRuleError, match="already has an open credit request"):
        propose(customer, head, limit="2000000")
    assert CreditRequest.objects.count() == 1
