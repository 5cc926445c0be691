"""Admission (准入审批): a complete prospect is submitted, its department head decides once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
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
def complete_prospect(prospect, finance):
    """Every required document uploaded and verified by finance."""
    complete_checklist(prospect, verified_by=finance, verified_at=timezone.now())
    return prospect


@pytest.fixture
def unverified_prospect(prospect):
    """Every required document uploaded, none verified yet."""
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


# --- verification before approval -------------------------------------------------------------


def _kind_label(kind) -> str:
    with translation.override("zh-hans"):
        return str(kind.label)


def test_approval_is_refused_while_one_required_document_is_unverified(
    client_for, unverified_prospect, manager, head, finance
):
    customer = unverified_prospect
    pending = services.admission_submit(customer=customer, submitted_by=manager)
    # Three of the enterprise's four documents verified; the authorisation letter is not.
    customer.documents.exclude(kind=DocumentKind.AUTHORISATION_LETTER).update(
        verified_by=finance, verified_at=timezone.now()
    )
    history_rows = customer.history.count()
    response = client_for(head).post(decide_url(customer), {"decision": "approve"})
    with translation.override("zh-hans"):
        expected = gettext(
            "These qualification documents are not verified yet: %(documents)s. "
            "Finance or the department head verifies them before the approval."
        ) % {"documents": _kind_label(DocumentKind.AUTHORISATION_LETTER)}
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [expected]
    assert_in_page(response, expected)
    pending.refresh_from_db()
    customer.refresh_from_db()
    assert (pending.decision, pending.decided_by, pending.decided_at) == (
        AdmissionDecision.PENDING,
        None,
        None,
    )
    assert customer.status == CustomerStatus.PENDING_ADMISSION
    assert customer.history.count() == history_rows
    assert not Notification.objects.filter(recipient=manager).exists()


def test_the_refusal_names_every_unverified_document(unverified_prospect, manager, head):
    pending = services.admission_submit(customer=unverified_prospect, submitted_by=manager)
    with pytest.raises(BusinessRuleError) as error, translation.override("zh-hans"):
        services.admission_decide(admission=pending, decided_by=head, approve=True)
    with translation.override("zh-hans"):
        for kind in (
            DocumentKind.BUSINESS_LICENCE,
            DocumentKind.BANK_PERMIT,
            DocumentKind.LEGAL_REP_ID,
            DocumentKind.AUTHORISATION_LETTER,
        ):
            assert _kind_label(kind) in error.value.message


def test_approval_succeeds_once_the_last_document_is_verified_on_the_admission_page(
    client_for, unverified_prospect, manager, head, finance
):
    customer = unverified_prospect
    pending = services.admission_submit(customer=customer, submitted_by=manager)
    letter = customer.documents.get(kind=DocumentKind.AUTHORISATION_LETTER)
    customer.documents.exclude(pk=letter.pk).update(verified_by=finance, verified_at=timezone.now())
    client = client_for(head)
    page = client.get(decide_url(customer))
    body = page.content.decode()
    assert f'data-testid="verify-{letter.pk}"' in body
    assert body.count('data-testid="unverified"') == 1
    assert body.count('data-testid="verified"') == 3
    response = client.post(
        reverse("accounts:document_verify", args=[customer.pk, letter.pk]), {"back": "admission"}
    )
    assert response.status_code == 302
    assert response.url == decide_url(customer)
    letter.refresh_from_db()
    assert letter.verified_by == head
    assert letter.verified_at is not None
    response = client.post(decide_url(customer), {"decision": "approve"})
    assert response.status_code == 302
    pending.refresh_from_db()
    customer.refresh_from_db()
    assert pending.decision == AdmissionDecision.APPROVED
    assert customer.status == CustomerStatus.ACTIVE


def test_finance_verifies_a_document_and_who_and_when_are_recorded(
    client_for, unverified_prospect, finance
):
    document = unverified_prospect.documents.get(kind=DocumentKind.BANK_PERMIT)
    moment = datetime.datetime(2026, 5, 6, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        response = client_for(finance).post(
            reverse("accounts:document_verify", args=[unverified_prospect.pk, document.pk])
        )
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.verified_by, document.verified_at) == (finance, moment)


def test_an_account_manager_may_not_verify_a_document(client_for, unverified_prospect, manager):
    document = unverified_prospect.documents.get(kind=DocumentKind.BANK_PERMIT)
    response = client_for(manager).post(
        reverse("accounts:document_verify", args=[unverified_prospect.pk, document.pk])
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.document_verify(document=document, verified_by=manager)
    document.refresh_from_db()
    assert (document.verified_by, document.verified_at) == (None, None)


def test_the_manager_sees_no_verify_button_on_the_documents_tab(
    client_for, unverified_prospect, manager, finance
):
    manager_page = client_for(manager).get(
        unverified_prospect.get_absolute_url(), {"tab": "documents"}
    )
    finance_page = client_for(finance).get(
        unverified_prospect.get_absolute_url(), {"tab": "documents"}
    )
    verify = "/verify/"
    assert verify not in manager_page.content.decode()
    assert finance_page.content.decode().count(verify) == 4


def test_rejection_stays_possible_with_unverified_documents(unverified_prospect, manager, head):
    pending = services.admission_submit(customer=unverified_prospect, submitted_by=manager)
    services.admission_decide(admission=pending, decided_by=head, approve=False, comment="补件")
    unverified_prospect.refresh_from_db()
    assert unverified_prospect.status == CustomerStatus.PROSPECT


def test_a_replaced_document_is_unverified_again(complete_prospect, manager, head):
    pending = services.admission_submit(customer=complete_prospect, submitted_by=manager)
    services.document_add(
        customer=complete_prospect,
        uploaded_by=manager,
        kind=DocumentKind.BANK_PERMIT,
        file=QualificationDocumentFactory.build(kind=DocumentKind.BANK_PERMIT).file,
    )
    with pytest.raises(BusinessRuleError):
        services.admission_decide(admission=pending, decided_by=head, approve=True)
    pending.refresh_from_db()
    assert pending.decision == AdmissionDecision.PENDING
