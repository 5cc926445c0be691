"""The contract pages: lists by role, filters, detail, forms and the single-step actions."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from contracts.models import Contract, ContractStatus, StepStatus
from tests.factories import PDF_BYTES
from tests.helpers import page_messages, zh

from .factories import (
    admitted_customer,
    approve_all,
    current_step,
    draft_contract,
    submitted_contract,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(manager):
    return admitted_customer(manager=manager, tier="B")


@pytest.fixture
def pending(manager, customer, head, finance, executive):
    return submitted_contract(owner=manager, customer=customer, amount="1200000.00")


@pytest.mark.parametrize(
    ("url_name", "allowed", "refused"),
    [
        ("contracts:list", ["manager", "head", "finance", "executive", "outsider"], []),
        ("contracts:waiting", ["manager", "head", "finance", "executive"], []),
        ("contracts:department", ["head"], ["manager", "finance", "outsider"]),
        ("contracts:all", ["finance", "executive", "admin_user"], ["manager", "head"]),
    ],
)
def test_list_scopes_by_role(request, client_for, url_name, allowed, refused):
    for name in allowed:
        response = client_for(request.getfixturevalue(name)).get(reverse(url_name))
        assert response.status_code == 200, name
    for name in refused:
        response = client_for(request.getfixturevalue(name)).get(reverse(url_name))
        assert response.status_code == 404, name


def test_waiting_for_me_lists_only_the_current_steps_of_the_user(
    client_for, pending, head, finance
):
    response = client_for(head).get(reverse("contracts:waiting"))
    assert list(response.context["contracts"]) == [pending]
    response = client_for(finance).get(reverse("contracts:waiting"))
    assert list(response.context["contracts"]) == []
    assert b'data-testid="empty-state"' in response.content
    approve_all(pending, head)
    response = client_for(finance).get(reverse("contracts:waiting"))
    assert list(response.context["contracts"]) == [pending]


def test_other_departments_contracts_stay_hidden(client_for, pending, other_head, other_manager):
    for user in (other_head, other_manager):
        response = client_for(user).get(reverse("contracts:detail", args=[pending.pk]))
        assert response.status_code == 404
    response = client_for(other_head).get(reverse("contracts:department"))
    assert list(response.context["contracts"]) == []


def test_filters(client_for, manager, head, finance):
    small_b = draft_contract(
        owner=manager, customer=admitted_customer(manager=manager, tier="B"), amount="1000"
    )
    big_a = draft_contract(
        owner=manager, customer=admitted_customer(manager=manager, tier="A"), amount="3000000"
    )
    client = client_for(finance)
    url = reverse("contracts:all")

    def listed(**params):
        return set(client.get(url, params).context["contracts"])

    assert listed() == {small_b, big_a}
    assert listed(amount_min="2000000") == {big_a}
    assert listed(amount_max="1000") == {small_b}
    assert listed(tier="A") == {big_a}
    assert listed(status="pending") == set()
    assert listed(q=big_a.number) == {big_a}
    Contract.objects.filter(pk=small_b.pk).update(
        status=ContractStatus.ACTIVE,
        end_date=datetime.date.today() + datetime.timedelta(days=20),
        start_date=datetime.date.today() - datetime.timedelta(days=20),
    )
    assert listed(expiring_within="30") == {small_b}
    assert listed(expiring_within="10") == set()
    response = client.get(url, {"status": "expired"})
    assert b'data-testid="empty-state"' in response.content


def test_the_list_runs_the_same_queries_for_1_and_30_rows(
    client_for, manager, customer, django_assert_max_num_queries
):
    draft_contract(owner=manager, customer=customer)
    client = client_for(manager)
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("contracts:list"))
    for _ in range(29):
        draft_contract(owner=manager, customer=customer)
    with django_assert_max_num_queries(12) as many:
        response = client.get(reverse("contracts:list"))
    assert len(response.context["contracts"]) == 25
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_manager_drafts_a_contract_through_the_form(client_for, manager, customer):
    response = client_for(manager).post(
        reverse("contracts:create"),
        {
            "customer": customer.pk,
            "title": "设备采购合同",
            "amount": "250000.00",
            "discount_percent": "5",
            "start_date": "2026-02-01",
            "end_date": "2027-01-31",
            "payment_terms": "月结30天",
            "text_document": SimpleUploadedFile("contract.pdf", PDF_BYTES),
        },
    )
    contract = Contract.objects.get()
    assert response.status_code == 302 and response.url == contract.get_absolute_url()
    assert contract.owner == manager and contract.department == customer.department
    assert contract.number.startswith("HT-")
    assert contract.text_document


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "2026-01-01"}, "end_date"),
        ({"amount": "0"}, "amount"),
        ({"discount_percent": "101"}, "discount_percent"),
        ({"text_document": SimpleUploadedFile("x.pdf", b"MZ not a pdf")}, "text_document"),
    ],
)
def test_the_form_refuses_bad_input(client_for, manager, customer, changes, field):
    data = {
        "customer": customer.pk,
        "title": "t",
        "amount": "100",
        "discount_percent": "0",
        "start_date": "2026-02-01",
        "end_date": "2027-01-31",
    }
    data.update(changes)
    response = client_for(manager).post(reverse("contracts:create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Contract.objects.exists()


def test_customers_of_others_cannot_be_chosen(client_for, manager, other_manager):
    foreign = admitted_customer(manager=other_manager)
    response = client_for(manager).post(
        reverse("contracts:create"),
        {
            "customer": foreign.pk,
            "title": "t",
            "amount": "100",
            "discount_percent": "0",
            "start_date": "2026-02-01",
            "end_date": "2027-01-31",
        },
    )
    assert "customer" in response.context["form"].errors


def test_deciding_through_the_page(client_for, pending, head, manager, finance):
    step = current_step(pending)
    url = reverse("contracts:decide", args=[pending.pk, step.pk])
    assert client_for(manager).post(url, {"decision": "approve"}).status_code == 403
    assert client_for(finance).post(url, {"decision": "approve"}).status_code == 403
    response = client_for(head).post(url, {"decision": "approve", "comment": "同意"})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == StepStatus.APPROVED and step.comment == "同意"
    # A second click (another tab) is refused politely: a message, not an error page.
    response = client_for(head).post(url, {"decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert zh("This step has already been decided.") in page_messages(response)


def test_a_rejection_needs_a_comment_on_the_page(client_for, pending, head):
    step = current_step(pending)
    url = reverse("contracts:decide", args=[pending.pk, step.pk])
    response = client_for(head).post(url, {"decision": "reject"}, follow=True)
    assert zh("Give a reason for the rejection.") in page_messages(response)
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING


def test_the_detail_shows_rounds_steps_and_history(client_for, pending, head, finance):
    approve_all(pending, head)
    response = client_for(finance).get(reverse("contracts:detail", args=[pending.pk]))
    assert response.status_code == 200
    assert response.context["can_decide"]
    content = response.content.decode()
    assert 'data-testid="round-1"' in content
    assert content.count('data-testid="step"') == 2
    assert len(response.context["history"]) >= 2


def test_signing_refuses_a_file_that_is_not_a_pdf_or_image(client_for, manager, customer, head):
    contract = approve_all(submitted_contract(owner=manager, customer=customer), head)
    url = reverse("contracts:sign", args=[contract.pk])
    response = client_for(manager).post(
        url,
        {"signed_on": "2026-02-01", "signed_scan": SimpleUploadedFile("scan.pdf", b"hello")},
    )
    assert "signed_scan" in response.context["form"].errors
    with override_settings(UPLOAD_MAX_BYTES=10):
        response = client_for(manager).post(
            url,
            {"signed_on": "2026-02-01", "signed_scan": SimpleUploadedFile("s.pdf", PDF_BYTES)},
        )
        assert "signed_scan" in response.context["form"].errors
    response = client_for(manager).post(
        url, {"signed_on": "2026-02-01", "signed_scan": SimpleUploadedFile("s.pdf", PDF_BYTES)}
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    download = client_for(manager).get(reverse("contracts:download", args=[contract.pk, "scan"]))
    assert download.status_code == 200


def test_filing_page(client_for, manager, head, finance, executive):
    customer = admitted_customer(manager=manager, tier="A")
    contract = approve_all(submitted_contract(owner=manager, customer=customer), head, executive)
    from contracts import services

    from .factories import scan

    services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    url = reverse("contracts:file", args=[contract.pk])
    assert client_for(manager).get(url).status_code == 403
    response = client_for(finance).post(url, {"filed_on": "2026-02-03", "filing_reference": "B1"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.filed_on == datetime.date(2026, 2, 3) and contract.filed_by == finance


def test_the_customer_page_has_a_contracts_tab(client_for, manager, customer):
    contract = draft_contract(owner=manager, customer=customer)
    response = client_for(manager).get(customer.get_absolute_url(), {"tab": "contracts"})
    assert response.status_code == 200
    assert contract.number in response.content.decode()


def test_edit_and_resubmit_through_the_pages(client_for, manager, customer, head):
    contract = submitted_contract(owner=manager, customer=customer)
    from contracts import services

    services.step_decide(
        step=current_step(contract), decided_by=head, approve=False, comment="改价"
    )
    client = client_for(manager)
    response = client.post(
        reverse("contracts:edit", args=[contract.pk]),
        {
            "title": "改后",
            "amount": "400000",
            "discount_percent": "0",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "payment_terms": "",
        },
    )
    assert response.status_code == 302
    client.post(reverse("contracts:submit", args=[contract.pk]))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PENDING and contract.title == "改后"
    assert contract.rounds.count() == 2
