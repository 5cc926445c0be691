"""The complaint pages: intake, lists by scope and filters, the customer tab, handover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from complaints.models import Complaint, Status
from tests.factories import PDF_BYTES, ContactFactory, CustomerFactory, pdf_upload

# The same budget for 1 row and for 21 rows (or entries): no query per row.
LIST_BUDGET = 12
DETAIL_BUDGET = 22


def _form(contact, **extra):
    data = {
        "contact": contact.pk,
        "channel": "email",
        "category": "product_quality",
        "severity": "critical",
        "received_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "description": "批次质量问题",
    }
    data.update(extra)
    return data


def test_a_manager_registers_a_complaint_with_an_attachment(client_for, manager, customer, contact):
    url = reverse("complaints:create", args=[customer.pk])
    response = client_for(manager).post(url, _form(contact, attachments=[pdf_upload("照片.pdf")]))
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == complaint.get_absolute_url()
    assert complaint.assignee == manager and complaint.status == Status.NEW
    assert complaint.attachments.count() == 1
    page = client_for(manager).get(complaint.get_absolute_url())
    assert complaint.reference in page.content.decode()


def test_an_upload_that_is_not_a_pdf_or_image_is_refused(client_for, manager, customer, contact):
    url = reverse("complaints:create", args=[customer.pk])
    bad = pdf_upload("virus.pdf", content=b"MZ\x90\x00 not a pdf")
    response = client_for(manager).post(url, _form(contact, attachments=[bad]))
    assert response.status_code == 200 and not Complaint.objects.exists()
    assert PDF_BYTES  # the factory's real PDF passes (previous test)


def test_only_contacts_of_the_customer_are_offered(client_for, manager, customer, contact):
    stranger = ContactFactory(customer=CustomerFactory(department=customer.department))
    url = reverse("complaints:create", args=[customer.pk])
    response = client_for(manager).post(url, _form(stranger))
    assert response.status_code == 200 and "contact" in response.context["form"].errors
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("finance", 403), ("other_manager", 404)])
def test_who_cannot_register(request, role, status, client_for, customer):
    url = reverse("complaints:create", args=[customer.pk])
    assert client_for(request.getfixturevalue(role)).get(url).status_code == status


def test_lists_by_scope_and_filter(client_for, make_complaint, manager, head, other_manager):
    mine = make_complaint(severity="critical")
    other_customer = CustomerFactory(department=mine.customer.department, primary_manager=head)
    theirs = make_complaint(customer=other_customer, by=head, severity="low")
    url = reverse("complaints:list")
    assert list(client_for(manager).get(url).context["complaints"]) == [mine]
    head_page = client_for(head).get(url + "?scope=department")
    assert set(head_page.context["complaints"]) == {mine, theirs}
    filtered = client_for(head).get(url + "?scope=department&severity=low")
    assert list(filtered.context["complaints"]) == [theirs]
    Complaint.objects.filter(pk=mine.pk).update(response_breached_at=timezone.now())
    breached = client_for(head).get(url + "?scope=department&breached=true")
    assert list(breached.context["complaints"]) == [mine]
    empty = client_for(other_manager).get(url + "?scope=all")
    assert 'data-testid="empty-state"' in empty.content.decode()


def test_list_queries_do_not_grow_with_rows(
    client_for, make_complaint, head, django_assert_max_num_queries
):
    make_complaint()
    client = client_for(head)
    url = reverse("complaints:list") + "?scope=department"
    client.get(url)
    with django_assert_max_num_queries(LIST_BUDGET):
        client.get(url)
    for _ in range(20):
        make_complaint()
    with django_assert_max_num_queries(LIST_BUDGET):
        client.get(url)


def test_customer_tab_shows_count_and_breach_rate(client_for, make_complaint, manager, customer):
    first = make_complaint()
    make_complaint()
    Complaint.objects.filter(pk=first.pk).update(resolution_breached_at=timezone.now())
    page = client_for(manager).get(customer.get_absolute_url() + "?tab=complaints")
    assert page.status_code == 200
    assert page.context["complaint_counts"]["total"] == 2
    assert page.context["complaint_breach_rate"] == 50.0


def test_a_task_force_member_of_an_a_tier_complaint_sees_it_and_adds_entries(
    client_for, make_complaint, customer, manager, other_manager, north
):
    customer.tier = "A"
    customer.save()
    complaint = make_complaint()
    assert client_for(other_manager).get(complaint.get_absolute_url()).status_code == 404
    client_for(manager).post(
        reverse("complaints:task_force_add", args=[complaint.pk]), {"department": north.pk}
    )
    assert complaint.task_force.count() == 1
    assert client_for(other_manager).get(complaint.get_absolute_url()).status_code == 200
    client_for(other_manager).post(
        reverse("complaints:note_add", args=[complaint.pk]), {"text": "华北仓库已补货"}
    )
    assert complaint.notes.get().author == other_manager


def test_no_task_force_below_tier_a(client_for, make_complaint, manager, other_manager):
    complaint = make_complaint()
    client_for(manager).post(
        reverse("complaints:task_force_add", args=[complaint.pk]), {"user": other_manager.pk}
    )
    assert complaint.task_force.count() == 0


def test_a_handover_moves_open_complaints(make_complaint, manager, head, manager2):
    open_one = make_complaint()
    closed = make_complaint(status=Status.CLOSED)
    account_services.manager_handover(
        from_user=manager, to_user=manager2, performed_by=head, reason="离职"
    )
    open_one.refresh_from_db()
    closed.refresh_from_db()
    assert open_one.assignee == manager2 and closed.assignee == manager
    assert open_one.events.filter(kind="assignment").count() == 1


def test_detail_page_queries_are_bounded(
    client_for, make_complaint, manager, django_assert_max_num_queries
):
    complaint = make_complaint()
    client = client_for(manager)
    client.get(complaint.get_absolute_url())
    with django_assert_max_num_queries(DETAIL_BUDGET):
        client.get(complaint.get_absolute_url())
    for text in ("一", "二", "三", "四", "五"):
        client.post(reverse("complaints:note_add", args=[complaint.pk]), {"text": text})
    client.get(complaint.get_absolute_url())  # shows (and consumes) the success messages
    with django_assert_max_num_queries(DETAIL_BUDGET):
        assert client.get(complaint.get_absolute_url()).status_code == 200
