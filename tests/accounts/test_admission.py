"""Admission (准入审批): a complete prospect is submitted, its department head decides once."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import services
from accounts.errors import BusinessRuleError
from accounts.models import (
    AdmissionDecision,
    AdmissionRequest,
    CustomerStatus,
    CustomerType,
    DocumentKind,
)
from notifications.models import Notification
from tests.factories import CustomerFactory, QualificationDocumentFactory, complete_checklist
from tests.helpers import assert_in_page, page_messages, zh


@pytest.fixture
def prospect(manager, head):
    return CustomerFactory(department=manager.department, primary_manager=manager)


@pytest.fixture
def complete_prospect(prospect):
    complete_checklist(prospect)
    return prospect


@pytest.fixture
def pending(complete_prospect, manager):
    return services.admission_submit(customer=complete_prospect, submitted_by=manager)


def submit_url(customer) -> str:
    return reverse("accounts:admission_submit", args=[customer.pk])


def decide_url(customer) -> str:
    return reverse("accounts:admission_decide", args=[customer.pk])


# --- submit ---------------------------------------------------------------------------------


def test_submitting_with_an_incomplete_checklist_is_refused(client_for, prospect, manager):
    QualificationDocumentFactory(customer=prospect, kind=DocumentKind.BUSINESS_LICENCE)
    response = client_for(manager).post(submit_url(prospect), follow=True)
    with translation.override("zh-hans"):
        missing = ", ".join(
            str(kind.label)
            for kind in (
                DocumentKind.BANK_PERMIT,
                DocumentKind.LEGAL_REP_ID,
                DocumentKind.AUTHORISATION_LETTER,
            )
        )
        expected = gettext("The qualification checklist is incomplete: %(missing)s.") % {
            "missing": missing
        }
    assert page_messages(response) == [expected]
    assert_in_page(response, expected)
    prospect.refresh_from_db()
    assert prospect.status == CustomerStatus.PROSPECT
    assert not AdmissionRequest.objects.exists()


def test_an_expired_document_does_not_count(prospect, manager):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    complete_checklist(prospect)
    prospect.documents.filter(kind=DocumentKind.BANK_PERMIT).update(expires_on=yesterday)
    with pytest.raises(BusinessRuleError):
        services.admission_submit(customer=prospect, submitted_by=manager)
    assert services.missing_documents(prospect) == [DocumentKind.BANK_PERMIT]


def test_a_superseded_document_does_not_count(prospect, manager):
    complete_checklist(prospect)
    prospect.documents.filter(kind=DocumentKind.LEGAL_REP_ID).update(is_current=False)
    assert services.missing_documents(prospect) == [DocumentKind.LEGAL_REP_ID]


def test_an_individual_needs_only_the_id(east, manager):
    person = CustomerFactory(
        department=east,
        primary_manager=manager,
        customer_type=CustomerType.INDIVIDUAL,
        credit_code="",
    )
    QualificationDocumentFactory(customer=person, kind=DocumentKind.LEGAL_REP_ID)
    services.admission_submit(customer=person, submitted_by=manager)
    person.refresh_from_db()
    assert person.status == CustomerStatus.PENDING_ADMISSION


def test_an_enterprise_without_a_credit_code_is_refused(prospect, manager):
    complete_checklist(prospect)
    prospect.credit_code = ""
    prospect.save()
    with pytest.raises(BusinessRuleError):
        services.admission_submit(customer=prospect, submitted_by=manager)


def test_submitting_a_complete_prospect_notifies_the_head(
    client_for, complete_prospect, manager, head, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(submit_url(complete_prospect))
    assert response.status_code == 302
    complete_prospect.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.PENDING_ADMISSION
    request = AdmissionRequest.objects.get()
    assert (request.submitted_by, request.decision) == (manager, AdmissionDecision.PENDING)
    notice = Notification.objects.get(recipient=head)
    assert notice.link == complete_prospect.get_absolute_url()
    assert [mail.to for mail in mailoutbox] == [[head.email]]


def test_submitting_twice_is_refused(pending, complete_prospect, manager):
    with pytest.raises(BusinessRuleError):
        services.admission_submit(customer=complete_prospect, submitted_by=manager)
    assert AdmissionRequest.objects.count() == 1


def test_a_colleague_who_does_not_manage_the_customer_cannot_see_it(
    client_for, complete_prospect, manager2
):
    assert client_for(manager2).post(submit_url(complete_prospect)).status_code == 404
    complete_prospect.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.PROSPECT


# --- decide ---------------------------------------------------------------------------------


def test_the_head_approves(client_for, pending, complete_prospect, head, manager):
    response = client_for(head).post(
        decide_url(complete_prospect), {"decision": "approve", "comment": "资质齐全"}
    )
    assert response.status_code == 302
    complete_prospect.refresh_from_db()
    pending.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.ACTIVE
    assert (pending.decision, pending.decided_by, pending.comment) == (
        AdmissionDecision.APPROVED,
        head,
        "资质齐全",
    )
    assert pending.decided_at is not None
    assert Notification.objects.filter(recipient=manager).count() == 1
    reasons = list(complete_prospect.history.values_list("history_change_reason", flat=True))
    assert zh("Admission approved") in reasons


def test_a_rejection_needs_a_comment(client_for, pending, complete_prospect, head):
    response = client_for(head).post(
        decide_url(complete_prospect), {"decision": "reject", "comment": "   "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["comment"] == [zh("Give a reason for the rejection.")]
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.PENDING
    complete_prospect.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.PENDING_ADMISSION


def test_the_service_also_refuses_a_rejection_without_comment(pending, head):
    with pytest.raises(BusinessRuleError):
        services.admission_decide(admission=pending, decided_by=head, approve=False, comment="")


def test_the_head_rejects_with_a_comment(client_for, pending, complete_prospect, head, manager):
    client_for(head).post(
        decide_url(complete_prospect), {"decision": "reject", "comment": "授权书已过期"}
    )
    complete_prospect.refresh_from_db()
    pending.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.PROSPECT
    assert (pending.decision, pending.comment) == (AdmissionDecision.REJECTED, "授权书已过期")
    assert "授权书已过期" in Notification.objects.get(recipient=manager).message


def test_a_rejected_prospect_can_be_submitted_again(pending, complete_prospect, head, manager):
    services.admission_decide(admission=pending, decided_by=head, approve=False, comment="补件")
    services.admission_submit(customer=complete_prospect, submitted_by=manager)
    assert AdmissionRequest.objects.filter(decision=AdmissionDecision.PENDING).count() == 1


def test_deciding_twice_is_refused(pending, complete_prospect, head, admin_user):
    services.admission_decide(admission=pending, decided_by=head, approve=True)
    with pytest.raises(BusinessRuleError):
        services.admission_decide(
            admission=pending, decided_by=admin_user, approve=False, comment="改主意"
        )
    pending.refresh_from_db()
    complete_prospect.refresh_from_db()
    assert (pending.decision, pending.decided_by) == (AdmissionDecision.APPROVED, head)
    assert complete_prospect.status == CustomerStatus.ACTIVE


def test_a_stale_decision_page_says_it_was_decided_and_changes_nothing(
    client_for, pending, complete_prospect, head
):
    client = client_for(head)
    client.post(decide_url(complete_prospect), {"decision": "approve"})
    again = client.post(
        decide_url(complete_prospect), {"decision": "reject", "comment": "x"}, follow=True
    )
    assert again.redirect_chain == [(complete_prospect.get_absolute_url(), 302)]
    assert zh("This admission request has already been decided.") in page_messages(again)
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.APPROVED


def test_approval_is_refused_when_a_document_expired_meanwhile(pending, complete_prospect, head):
    complete_prospect.documents.update(expires_on=timezone.localdate() - datetime.timedelta(1))
    with pytest.raises(BusinessRuleError):
        services.admission_decide(admission=pending, decided_by=head, approve=True)
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.PENDING


def test_the_head_of_another_department_gets_404(
    client_for, pending, complete_prospect, other_head
):
    response = client_for(other_head).post(decide_url(complete_prospect), {"decision": "approve"})
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.PENDING


def test_the_head_of_another_department_is_refused_by_the_service(pending, other_head):
    with pytest.raises(PermissionDenied):
        services.admission_decide(admission=pending, decided_by=other_head, approve=True)


@pytest.mark.parametrize("role", ["manager", "finance", "executive"])
def test_roles_that_see_the_customer_but_do_not_decide_get_403(
    request, client_for, pending, complete_prospect, role
):
    user = request.getfixturevalue(role)
    response = client_for(user).post(decide_url(complete_prospect), {"decision": "approve"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.PENDING


def test_an_admin_may_decide(pending, complete_prospect, admin_user):
    services.admission_decide(admission=pending, decided_by=admin_user, approve=True)
    complete_prospect.refresh_from_db()
    assert complete_prospect.status == CustomerStatus.ACTIVE


def test_the_decision_shows_on_the_managers_tab(client_for, pending, complete_prospect, head):
    services.admission_decide(admission=pending, decided_by=head, approve=False, comment="补件")
    response = client_for(head).get(complete_prospect.get_absolute_url(), {"tab": "managers"})
    assert list(response.context["admission_requests"]) == [pending]
    assert "补件" in response.content.decode()
