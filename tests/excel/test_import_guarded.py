"""The import writes no guarded field: every column is walked; each guarded change is refused
for the whole file with a clear per-row message; managers only as the assignment rule allows;
customers outside the user's scope are named by their department only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import imports
from accounts.models import (
    AssignmentChange,
    Contact,
    Customer,
    CustomerStatus,
    DataTransferLog,
    Transaction,
)
from tests.excel.conftest import upload, xlsx_bytes
from tests.excel.test_import import commit, preview, token_of
from tests.factories import CustomerFactory, UserFactory, valid_credit_code

CODE1, CODE2 = valid_credit_code(201), valid_credit_code(202)

# Every model field an import column may write, per sheet. A new column must be added here
# (if it is plain archive data) or be guarded, or this walk fails.
WRITABLE = {
    "customers": {
        "name", "short_name", "credit_code", "customer_type", "industry", "province", "city",
        "address", "source_channel", "notes",
    },
    "contacts": {
        "name", "title", "department", "decision_role", "phone", "email", "wechat",
        "birthday", "is_primary",
    },
    "transactions": {"date", "amount", "profit", "due_date", "paid_date", "reference"},
}  # fmt: skip
# Columns that only find the customer a row belongs to; they write nothing.
LOOKUPS = {"customer_name", "customer_credit_code"}
# Written by their own services only (admission, grading, credit requests, assignment).
GUARDED = {
    "status": "always",
    "tier": "always",
    "score": "always",
    "credit_terms": "always",
    "credit_limit": "always",
    "department": "existing",
    "primary_manager": "existing",
    "assistant_manager": "existing",
}
# A value for each guarded column that differs from the archive of `existing_customer`.
DIFFERENT = {
    "status": "Active",
    "tier": "A",
    "score": 93.2,
    "credit_terms": "credit",
    "credit_limit": 50_000_000,
    "department": "north",
    "primary_manager": "am_east2",
    "assistant_manager": "am_east2",
}
MESSAGES = {
    "status": "an import does not set a status",
    "tier": "the tier is set only by a published grading run",
    "score": "the score is set only by a published grading run",
    "credit_terms": "credit terms change only through a credit request",
    "credit_limit": "the credit limit changes only through a credit request",
    "department": "an import does not move a customer to another department",
    "primary_manager": "an import does not change an existing customer's managers",
    "assistant_manager": "an import does not change an existing customer's managers",
}


def test_every_import_column_is_either_plain_archive_data_a_lookup_or_guarded():
    for sheet, fields in imports.SHEETS.items():
        for spec in fields:
            if spec.key in LOOKUPS and sheet != "customers":
                continue
            if spec.key in WRITABLE[sheet]:
                assert not spec.guarded, (sheet, spec.key)
                continue
            assert sheet == "customers" and spec.key in GUARDED, (
                f"the {sheet} column {spec.key!r} writes something that is neither plain "
                "archive data nor guarded"
            )
            assert spec.guarded == GUARDED[spec.key], (sheet, spec.key)
    keys = {spec.key for spec in imports.CUSTOMER_FIELDS}
    assert set(GUARDED) <= keys  # the walk below covers every guarded column
    assert set(imports.Validator.UPDATABLE) <= WRITABLE["customers"]


@pytest.fixture
def existing_customer(manager, manager2, north):
    return CustomerFactory(
        name="上海华鼎机械有限公司", credit_code=CODE1, department=manager.department,
        primary_manager=manager, status=CustomerStatus.PROSPECT, credit_limit=Decimal("1000000"),
    )  # fmt: skip


def snapshot(customer) -> dict:
    customer.refresh_from_db()
    return {
        name: getattr(customer, name)
        for name in (*GUARDED, "name", "address", "chief_manager")
        if hasattr(customer, name)
    }


def one_column_file(key: str, value, *, name="上海华鼎机械有限公司", code=CODE1) -> bytes:
    spec = next(s for s in imports.CUSTOMER_FIELDS if s.key == key)
    with translation.override("en"):
        header = str(spec.header)
    return xlsx_bytes(
        ("Customers", [["Name", "Credit code", "Address", header], [name, code, "新地址", value]])
    )


def preview_and_commit(user, content):
    """Preview as the import page does, then try to commit even leaving out bad rows."""
    with translation.override("en"):
        token = imports.import_preview(user=user, kind="customers", upload=upload(content))
        summary = imports.stash_load(user=user, token=token)["summary"]
        with pytest.raises(imports.ImportRefused) as refused:
            imports.import_commit(user=user, token=token, skip_invalid=True)
    return summary, str(refused.value)


def errors_of(summary) -> list[tuple[str, str]]:
    return [error for row in summary["sheets"]["customers"]["rows"] for error in row["errors"]]


@pytest.mark.parametrize("key", sorted(GUARDED))
@pytest.mark.parametrize("who", ["manager", "head"])
def test_a_guarded_column_of_an_existing_customer_refuses_the_whole_file(
    request, existing_customer, other_head, key, who
):
    user = request.getfixturevalue(who)
    before = snapshot(existing_customer)
    summary, refusal = preview_and_commit(user, one_column_file(key, DIFFERENT[key]))
    assert len(errors_of(summary)) == 1
    assert MESSAGES[key] in errors_of(summary)[0][1]
    assert summary["guarded"] == 1
    assert "nothing was imported" in refusal
    assert snapshot(existing_customer) == before  # not even the address of the same row
    assert not DataTransferLog.objects.exists()


@pytest.mark.parametrize("key", sorted(k for k, kind in GUARDED.items() if kind == "always"))
def test_a_guarded_column_of_a_new_customer_refuses_the_whole_file(head, key):
    content = xlsx_bytes(
        ("Customers", [
            ["Name", "Credit code", next(
                str(s.header) for s in imports.CUSTOMER_FIELDS if s.key == key)],
            ["南京天成物流有限公司", CODE2, DIFFERENT[key]],
            ["苏州锦程精密仪器有限公司", "", ""],  # a valid row: still nothing is written
        ]),
    )  # fmt: skip
    with translation.override("en"):
        summary, refusal = preview_and_commit(head, content)
    assert MESSAGES[key] in errors_of(summary)[0][1]
    assert summary["valid"] == 1 and summary["guarded"] == 1
    assert "nothing was imported" in refusal
    assert not Customer.objects.exists()
    assert not AssignmentChange.objects.exists()


def test_a_status_column_is_refused_even_when_it_says_prospect(head):
    summary, refusal = preview_and_commit(
        head, one_column_file("status", "prospect", name="南京天成物流有限公司", code=CODE2)
    )
    assert MESSAGES["status"] in errors_of(summary)[0][1]
    assert not Customer.objects.exists()


def test_a_guarded_value_equal_to_the_archive_writes_nothing_and_passes(manager, existing_customer):
    content = one_column_file("credit_limit", 1_000_000)
    with translation.override("en"):
        token = imports.import_preview(user=manager, kind="customers", upload=upload(content))
        result = imports.import_commit(user=manager, token=token)
    assert result.updated == 1
    existing_customer.refresh_from_db()
    assert existing_customer.address == "新地址"
    assert existing_customer.credit_limit == Decimal("1000000")


def test_the_import_page_says_why_and_offers_no_partial_import(
    client_for, manager, existing_customer, settings
):
    settings.LANGUAGE_CODE = "en"
    client = client_for(manager)
    token = token_of(preview(client, one_column_file("credit_limit", 50_000_000)))
    page = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert MESSAGES["credit_limit"] in page
    assert 'data-testid="guarded"' in page
    assert 'data-testid="commit-valid"' not in page  # no partial import is offered
    response = commit(client, token, skip_invalid="1")
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("nothing was imported" in message for message in messages)
    existing_customer.refresh_from_db()
    assert existing_customer.credit_limit == Decimal("1000000")


def test_the_templates_have_no_guarded_column(head):
    import io

    from openpyxl import load_workbook

    buffer = io.BytesIO()
    imports.build_template("customers", head, buffer)
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    headers = {cell.value for cell in workbook.worksheets[0][1]}
    for key, kind in GUARDED.items():
        if kind == "always":
            spec = next(s for s in imports.CUSTOMER_FIELDS if s.key == key)
            assert not headers & {str(spec.header), *imports._in_every_language(spec.header)}


# --- Managers of a new customer: the assignment rule ----------------------------------------


def new_customer_file(*cells) -> bytes:
    return xlsx_bytes(
        ("Customers", [
            ["Name", "Department", "Primary manager", "Assistant manager"],
            ["南京天成物流有限公司", *cells],
        ])
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (("east", "am_north1", ""), "belongs to another department"),
        (("east", "finance", ""), "is not an account manager"),
        (("east", "am_east1", "am_east1"), "two different people"),
    ],
)
def test_a_head_may_not_import_managers_the_assignment_page_refuses(
    head, manager, other_manager, finance, cells, message
):
    with translation.override("en"):
        token = imports.import_preview(
            user=head, kind="customers", upload=upload(new_customer_file(*cells))
        )
        summary = imports.stash_load(user=head, token=token)["summary"]
        with pytest.raises(imports.ImportRefused):
            imports.import_commit(user=head, token=token)
    assert any(message in text for _column, text in errors_of(summary))
    assert not Customer.objects.exists()


def test_an_inactive_manager_is_not_found(head):
    UserFactory(username="am_gone", department=head.department, is_active=False)
    with translation.override("en"):
        token = imports.import_preview(
            user=head, kind="customers", upload=upload(new_customer_file("east", "am_gone", ""))
        )
        summary = imports.stash_load(user=head, token=token)["summary"]
    assert any("unknown manager" in text for _column, text in errors_of(summary))


def test_imported_customers_are_prospects_with_their_assignment_on_record(head, manager):
    with translation.override("en"):
        token = imports.import_preview(
            user=head, kind="customers", upload=upload(new_customer_file("east", "am_east1", ""))
        )
        imports.import_commit(user=head, token=token)
    customer = Customer.objects.get()
    assert (customer.status, customer.tier, customer.score) == (CustomerStatus.PROSPECT, "", None)
    change = AssignmentChange.objects.get(customer=customer)
    assert (change.new_user, change.kind, change.changed_by) == (manager, "created", head)


def test_the_bulk_service_refuses_a_customer_that_is_not_a_plain_prospect(head, east):
    from accounts.errors import BusinessRuleError
    from accounts.services import customers_bulk_create, customers_bulk_update

    with pytest.raises(BusinessRuleError):
        customers_bulk_create(
            customers=[Customer(name="x", department=east, status=CustomerStatus.ACTIVE)],
            created_by=head,
            reason="r",
        )
    existing = CustomerFactory(department=east)
    with pytest.raises(BusinessRuleError):
        customers_bulk_update(changes=[(existing, ["credit_limit"])], updated_by=head, reason="r")
    assert Customer.objects.count() == 1


# --- Confidentiality ------------------------------------------------------------------------


def test_another_departments_credit_code_is_reported_by_department_only(
    client_for, manager, other_manager, settings
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="呼和浩特草原乳业有限公司", credit_code=CODE1, department=other_manager.department,
        primary_manager=other_manager,
    )  # fmt: skip
    client = client_for(manager)
    token = token_of(preview(client, one_column_file("notes", "x", name="我的新客户")))
    page = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    page = page.replace("&#x27;", "'")
    assert f"A customer of {other_manager.department.name} outside your scope" in page
    assert "呼和浩特" not in page
    failed = client.get(reverse("accounts:import_failed_rows", args=[token]))
    assert "呼和浩特".encode() not in b"".join(failed.streaming_content)


def test_a_same_named_customer_outside_scope_does_not_show_its_credit_code(
    client_for, manager, other_manager, settings
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="上海华鼎机械有限公司", credit_code=CODE2, department=other_manager.department,
        primary_manager=other_manager,
    )  # fmt: skip
    client = client_for(manager)
    token = token_of(preview(client, one_column_file("notes", "x")))
    page = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert CODE2 not in page
    assert f"A customer of {other_manager.department.name} outside your scope" in page.replace(
        "&#x27;", "'"
    )


def test_transactions_of_a_customer_outside_scope_name_only_what_the_file_says(
    client_for, manager, other_manager, settings
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="呼和浩特草原乳业有限公司", credit_code=CODE1, department=other_manager.department
    )
    content = xlsx_bytes(
        ("ERP", [["Customer credit code", "Date", "Amount"], [CODE1, "2026-01-05", 5]])
    )
    client = client_for(manager)
    token = token_of(preview(client, content, kind="transactions"))
    page = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert "呼和浩特" not in page
    assert not Transaction.objects.exists() and not Contact.objects.exists()


def test_imported_transactions_keep_to_the_credit_limit_as_the_form_does(manager):
    CustomerFactory(
        credit_code=CODE1, department=manager.department, primary_manager=manager,
        credit_terms="credit", credit_limit=Decimal("1000"), status=CustomerStatus.ACTIVE,
    )  # fmt: skip
    content = xlsx_bytes(
        ("ERP", [
            ["Customer credit code", "Date", "Amount", "Reference"],
            [CODE1, "2026-01-05", 800, "SO-1"],
            [CODE1, "2026-01-06", 800, "SO-2"],  # together over the limit
        ])
    )  # fmt: skip
    with translation.override("en"):
        token = imports.import_preview(user=manager, kind="transactions", upload=upload(content))
        with pytest.raises(imports.ImportRefused) as refused:
            imports.import_commit(user=manager, token=token)
    assert str(refused.value).startswith("Row 3: ")
    assert "Nothing was imported." in str(refused.value)
    assert not Transaction.objects.exists()


def test_transaction_rows_follow_the_transaction_forms_rules(manager):
    CustomerFactory(
        credit_code=CODE1,
        department=manager.department,
        primary_manager=manager,
        credit_terms="credit",
        credit_limit=1_000_000,
    )  # a credit customer, so that only the form's rules speak
    content = xlsx_bytes(
        ("ERP", [
            ["Customer credit code", "Date", "Amount", "Profit", "Payment due date"],
            [CODE1, "2026-01-05", 100, 150, "2026-01-01"],
        ])
    )  # fmt: skip
    with translation.override("en"):
        token = imports.import_preview(user=manager, kind="transactions", upload=upload(content))
        rows = imports.stash_load(user=manager, token=token)["summary"]["sheets"]
    messages = {message for _column, message in rows["transactions"]["rows"][0]["errors"]}
    assert messages == {
        "The profit cannot exceed the amount.",
        "The due date cannot be before the transaction date.",
    }


def test_a_contact_row_for_a_customer_outside_scope_names_only_what_the_file_says(
    client_for, manager, other_manager, settings
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="呼和浩特草原乳业有限公司", credit_code=CODE1, department=other_manager.department
    )
    content = xlsx_bytes(
        ("Customers", [["Name", "Credit code"], ["我的新客户", CODE2]]),
        ("Contacts", [["Customer credit code", "Contact name"], [CODE1, "王伟"]]),
    )
    client = client_for(manager)
    token = token_of(preview(client, content))
    page = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert "unknown customer" in page
    assert "呼和浩特" not in page
