"""Bad input on every form: a clear message in the form, and nothing written."""

from __future__ import annotations

import datetime
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from accounts.models import (
    AdmissionRequest,
    Customer,
    CustomerStatus,
    CustomerType,
    DocumentKind,
    User,
)
from tests.factories import (
    PASSWORD,
    PDF_BYTES,
    ContactFactory,
    CustomerFactory,
    pdf_upload,
)
from tests.helpers import PAGE_LANGUAGE, assert_in_page, zh

REQUIRED = "This field is required."
CHECKSUM = "The credit code's check digit is wrong; please check the code for a typing error."
NOT_NEGATIVE = "Ensure this value is greater than or equal to %(limit_value)s."
NOT_A_DOCUMENT = "The file's content is not a PDF or an image, whatever its name says."
WRONG_TYPE = "Upload a PDF or an image (PNG, JPEG, GIF, WebP)."


def row_counts() -> dict[str, int]:
    """Count the rows of every model (history included) of the apps the forms write to."""
    return {
        model._meta.label: model._default_manager.count()
        for label in ("accounts", "notifications")
        for model in apps.get_app_config(label).get_models()
    }


@contextmanager
def nothing_written():
    before = row_counts()
    yield
    assert row_counts() == before


def assert_form_error(response, message: str, field: str | None = None) -> None:
    """Assert the form came back (200) with message on field (or on the whole form)."""
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__", [])
    assert message in errors, (field, form.errors)
    assert_in_page(response, message)


@pytest.fixture
def customer(manager, head):
    return CustomerFactory(
        department=manager.department,
        primary_manager=manager,
        name="厦门鹭岛物流有限公司",
        status=CustomerStatus.ACTIVE,
        # On credit: a prepaid customer's deliveries also need confirmed payments.
        credit_terms="credit",
        credit_limit=1000000,
    )


# --- customer create / edit ----------------------------------------------------------------


def customer_data(department, /, **overrides) -> dict:
    data = {
        "name": "泉州刺桐纺织有限公司",
        "credit_code": "91350100M000100Y43",
        "customer_type": CustomerType.ENTERPRISE,
        "industry": "manufacturing",
        "source_channel": "referral",
        "department": department.pk,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": None}, "name", zh(REQUIRED)),
        ({"name": "   "}, "name", zh(REQUIRED)),
        ({"department": None}, "department", zh(REQUIRED)),
        ({"customer_type": None}, "customer_type", zh(REQUIRED)),
        ({"credit_code": "91350100M000100Y44"}, "credit_code", zh(CHECKSUM)),
        (
            {"credit_code": "91350100M000100Y4"},
            "credit_code",
            zh("A unified social credit code has 18 characters; this one has %(count)d.", count=17),
        ),
        (
            {"credit_code": "91350100M0001OOY43"},
            "credit_code",
            zh("The credit code contains characters that are not allowed: %(chars)s.", chars="O"),
        ),
    ],
    ids=[
        "missing-name",
        "blank-name",
        "missing-department",
        "missing-type",
        "bad-check-digit",
        "short-code",
        "letter-o",
    ],
)
def test_the_customer_form_explains_bad_input(client_for, manager, overrides, field, message):
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:customer_create"), customer_data(manager.department, **overrides)
        )
    assert_form_error(response, message, field)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", zh(REQUIRED)),
        ({"credit_code": "91350100M000100Y44"}, "credit_code", zh(CHECKSUM)),
    ],
    ids=["missing-name", "bad-check-digit"],
)
def test_the_edit_form_explains_bad_input(client_for, manager, customer, overrides, field, message):
    data = customer_data(manager.department, **({"name": customer.name} | overrides))
    client = client_for(manager)
    with nothing_written():
        response = client.post(reverse("accounts:customer_edit", args=[customer.pk]), data)
    assert_form_error(response, message, field)
    before = customer.credit_code, customer.name, customer.credit_limit
    customer.refresh_from_db()
    assert (customer.credit_code, customer.name, customer.credit_limit) == before


# --- contacts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"decision_role": "user"}, "name", zh(REQUIRED)),
        ({"name": "王芳"}, "decision_role", zh(REQUIRED)),
        (
            {"name": "王芳", "decision_role": "user", "email": "wang@"},
            "email",
            zh("Enter a valid email address."),
        ),
        (
            {"name": "王芳", "decision_role": "user", "birthday": "1980-02-30"},
            "birthday",
            zh("Enter a valid date."),
        ),
        (
            {"name": "王芳", "decision_role": "boss"},
            "decision_role",
            zh("Select a valid choice. %(value)s is not one of the available choices.")
            % {"value": "boss"},
        ),
    ],
    ids=["missing-name", "missing-role", "bad-email", "bad-birthday", "bad-role"],
)
def test_the_contact_form_explains_bad_input(client_for, manager, customer, data, field, message):
    client = client_for(manager)
    with nothing_written():
        response = client.post(reverse("accounts:contact_add", args=[customer.pk]), data)
    assert_form_error(response, message, field)


def test_the_contact_edit_form_explains_bad_input(client_for, manager, customer):
    contact = ContactFactory(customer=customer, name="王芳")
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:contact_edit", args=[customer.pk, contact.pk]),
            {"name": "", "decision_role": "user"},
        )
    assert_form_error(response, zh(REQUIRED), "name")
    contact.refresh_from_db()
    assert contact.name == "王芳"


# --- transactions --------------------------------------------------------------------------


def transaction_data(**overrides) -> dict:
    data = {"date": "2026-05-10", "amount": "88000.00", "profit": "8800.00"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date": None}, "date", zh(REQUIRED)),
        ({"amount": None}, "amount", zh(REQUIRED)),
        ({"amount": "-100"}, "amount", zh(NOT_NEGATIVE, limit_value=0)),
        (
            {"due_date": "2026-05-09"},
            "due_date",
            zh("The due date cannot be before the transaction date."),
        ),
        (
            {"paid_date": "2026-04-30"},
            "paid_date",
            zh("The payment date cannot be before the transaction date."),
        ),
        ({"profit": "90000"}, "profit", zh("The profit cannot exceed the amount.")),
        ({"date": "2026-13-01"}, "date", zh("Enter a valid date.")),
        ({"amount": "1e3x"}, "amount", zh("Enter a number.")),
    ],
    ids=[
        "missing-date",
        "missing-amount",
        "negative-amount",
        "due-before-date",
        "paid-before-date",
        "profit-over-amount",
        "bad-date",
        "bad-amount",
    ],
)
def test_the_transaction_form_explains_bad_input(
    client_for, manager, customer, overrides, field, message
):
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:transaction_add", args=[customer.pk]), transaction_data(**overrides)
        )
    assert_form_error(response, message, field)


def test_a_due_date_on_the_transaction_date_is_fine(client_for, manager, customer):
    response = client_for(manager).post(
        reverse("accounts:transaction_add", args=[customer.pk]),
        transaction_data(due_date="2026-05-10"),
    )
    assert response.status_code == 302
    assert customer.transactions.get().due_date == datetime.date(2026, 5, 10)


# --- documents -----------------------------------------------------------------------------


def upload(client, customer, file, kind=DocumentKind.BUSINESS_LICENCE):
    data = {"kind": kind, "expires_on": "2030-12-31"}
    if file is not None:
        data["file"] = file
    return client.post(reverse("accounts:document_add", args=[customer.pk]), data)


def test_a_20_mb_upload_is_refused(client_for, manager, customer):
    size = 20 * 1024 * 1024
    big = SimpleUploadedFile("licence.pdf", PDF_BYTES + b"0" * (size - len(PDF_BYTES)))
    client = client_for(manager)
    with nothing_written():
        response = upload(client, customer, big)
    with translation.override(PAGE_LANGUAGE):
        message = gettext("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(size),
            "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
        }
    assert_form_error(response, message, "file")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("licence.pdf", b"MZ\x90\x00\x03\x00\x00\x00 this is a program", zh(NOT_A_DOCUMENT)),
        ("licence.pdf", b"PK\x03\x04 a zip archive renamed", zh(NOT_A_DOCUMENT)),
        ("licence.png", b"<html><script>alert(1)</script></html>", zh(NOT_A_DOCUMENT)),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00", zh(WRONG_TYPE)),
        ("licence.pdf.exe", PDF_BYTES, zh(WRONG_TYPE)),
        ("licence.docx", b"PK\x03\x04", zh(WRONG_TYPE)),
    ],
    ids=["exe-renamed-pdf", "zip-renamed-pdf", "html-renamed-png", "exe", "double-ext", "docx"],
)
def test_a_file_that_is_not_a_pdf_or_image_is_refused(
    client_for, manager, customer, name, content, message
):
    client = client_for(manager)
    with nothing_written():
        response = upload(client, customer, SimpleUploadedFile(name, content))
    assert_form_error(response, message, "file")


def test_an_empty_file_is_refused(client_for, manager, customer):
    client = client_for(manager)
    with nothing_written():
        response = upload(client, customer, SimpleUploadedFile("licence.pdf", b""))
    assert_form_error(response, zh("The submitted file is empty."), "file")


def test_a_missing_file_is_refused(client_for, manager, customer):
    client = client_for(manager)
    with nothing_written():
        response = upload(client, customer, None)
    assert_form_error(response, zh(REQUIRED), "file")


def test_a_missing_kind_is_refused(client_for, manager, customer):
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:document_add", args=[customer.pk]), {"file": pdf_upload()}
        )
    assert_form_error(response, zh(REQUIRED), "kind")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("licence.pdf", PDF_BYTES),
        ("licence.PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),
        ("licence.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
        ("licence.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
    ],
)
def test_a_real_pdf_or_image_is_accepted(client_for, manager, customer, name, content):
    response = upload(client_for(manager), customer, SimpleUploadedFile(name, content))
    assert response.status_code == 302
    assert customer.documents.get().file.read() == content


# --- admission, assignment, termination, handover ------------------------------------------


@pytest.fixture
def pending(customer, manager):
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.PENDING_ADMISSION)
    return AdmissionRequest.objects.create(customer=customer, submitted_by=manager)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        # A browser always sends the textarea, even with no radio button chosen.
        ({"comment": ""}, "decision", zh(REQUIRED)),
        ({"decision": "reject"}, "comment", zh("Give a reason for the rejection.")),
        (
            {"decision": "maybe"},
            "decision",
            zh("Select a valid choice. %(value)s is not one of the available choices.")
            % {"value": "maybe"},
        ),
    ],
    ids=["missing-decision", "reject-without-comment", "bad-decision"],
)
def test_the_admission_form_explains_bad_input(
    client_for, head, customer, pending, data, field, message
):
    client = client_for(head)
    with nothing_written():
        response = client.post(reverse("accounts:admission_decide", args=[customer.pk]), data)
    assert_form_error(response, message, field)


def test_approving_an_incomplete_checklist_is_explained(client_for, head, customer, pending):
    client = client_for(head)
    with nothing_written():
        response = client.post(
            reverse("accounts:admission_decide", args=[customer.pk]), {"decision": "approve"}
        )
    assert_form_error(response, zh("The qualification checklist is no longer complete."))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "assistant_manager"}, "reason", zh(REQUIRED)),
        ({"reason": "调整"}, "role", zh(REQUIRED)),
        (
            {"role": "assistant_manager", "user": "999999", "reason": "调整"},
            "user",
            zh("Select a valid choice. That choice is not one of the available choices."),
        ),
    ],
    ids=["missing-reason", "missing-role", "unknown-user"],
)
def test_the_assignment_form_explains_bad_input(client_for, head, customer, data, field, message):
    client = client_for(head)
    with nothing_written():
        response = client.post(reverse("accounts:customer_assign", args=[customer.pk]), data)
    assert_form_error(response, message, field)


def test_the_assignment_form_explains_a_refused_rule(client_for, head, customer, manager):
    client = client_for(head)
    with nothing_written():
        response = client.post(
            reverse("accounts:customer_assign", args=[customer.pk]),
            {"role": "assistant_manager", "user": manager.pk, "reason": "调整"},
        )
    assert_form_error(
        response, zh("The primary and assistant manager must be two different people.")
    )


def test_the_termination_form_needs_a_reason(client_for, head, customer):
    client = client_for(head)
    with nothing_written():
        response = client.post(
            reverse("accounts:customer_terminate", args=[customer.pk]), {"reason": ""}
        )
    assert_form_error(response, zh(REQUIRED), "reason")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"to_user": "manager2", "reason": "离职"}, "from_user", zh(REQUIRED)),
        ({"from_user": "manager", "reason": "离职"}, "to_user", zh(REQUIRED)),
        ({"from_user": "manager", "to_user": "manager2"}, "reason", zh(REQUIRED)),
        (
            {"from_user": "manager", "to_user": "manager", "reason": "离职"},
            None,
            zh("Choose a different successor."),
        ),
    ],
    ids=["missing-from", "missing-to", "missing-reason", "same-person"],
)
def test_the_handover_form_explains_bad_input(
    request, client_for, head, customer, manager2, data, field, message
):
    posted = {
        key: request.getfixturevalue(value).pk if key.endswith("_user") else value
        for key, value in data.items()
    }
    client = client_for(head)
    with nothing_written():
        response = client.post(reverse("accounts:handover_create"), posted)
    assert_form_error(response, message, field)


# --- log-in and password change ------------------------------------------------------------


def test_a_wrong_password_is_explained(client, manager):
    with nothing_written():
        response = client.post(
            reverse("login"), {"username": manager.username, "password": "wrong"}
        )
    with translation.override(PAGE_LANGUAGE):
        username = capfirst(User._meta.get_field("username").verbose_name)
        message = gettext(
            "Please enter a correct %(username)s and password. Note that both "
            "fields may be case-sensitive."
        ) % {"username": username}
    assert_form_error(response, message)
    assert response.context["user"].is_anonymous


def test_a_password_change_with_the_wrong_old_password_is_refused(client_for, manager):
    client = client_for(manager)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert_form_error(
        response,
        zh("Your old password was entered incorrectly. Please enter it again."),
        "old_password",
    )
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
