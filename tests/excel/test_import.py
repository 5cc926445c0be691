"""Import: preview with plain-word errors, all-or-nothing commit, idempotence, scope."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import (
    AssignmentChange,
    Contact,
    Customer,
    CustomerStatus,
    DataTransferLog,
    Transaction,
)
from tests.excel.conftest import (
    CONTACT_HEADERS,
    CUSTOMER_HEADERS,
    TRANSACTION_HEADERS,
    read_xlsx,
    response_bytes,
    upload,
    xlsx_bytes,
)
from tests.factories import CustomerFactory, TransactionFactory, valid_credit_code

CODE1, CODE2, CODE3 = valid_credit_code(101), valid_credit_code(102), valid_credit_code(103)


def customer_file(rows, contacts=None) -> bytes:
    sheets = [("客户", [CUSTOMER_HEADERS, *rows])]
    if contacts is not None:
        sheets.append(("联系人", [CONTACT_HEADERS, *contacts]))
    return xlsx_bytes(*sheets)


def good_rows(manager="am_east1"):
    return [
        ["上海华鼎机械有限公司", CODE1, "Enterprise", "Manufacturing", "上海市", "上海",
         "", "east", manager, None],
        ["杭州恒信软件有限公司", CODE2, "企业", "信息技术", "浙江省", "杭州",
         None, "华东大客户部", manager, ""],
    ]  # fmt: skip


def good_contacts():
    return [
        ["上海华鼎机械有限公司", "王伟", "采购总监", "13800000001", "wang@example.cn",
         datetime.date(1980, 5, 1), "是"],
        ["杭州恒信软件有限公司", "李娜", "总经理", 13800000002, "", None, None],
    ]  # fmt: skip


def preview(client, content, kind="customers", name="data.xlsx"):
    response = client.post(
        reverse("accounts:import_start"), {"kind": kind, "file": upload(content, name)}
    )
    return response


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:3000]
    return re.search(r"/import/([^/]+)/$", response["Location"]).group(1)


def commit(client, token, **data):
    return client.post(reverse("accounts:import_commit", args=[token]), data)


@pytest.fixture
def staff(head, manager, manager2, other_manager, admin_user):
    return {"head": head, "manager": manager, "manager2": manager2}


def test_it_imports_customers_with_contacts_after_a_preview(client_for, staff):
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(good_rows(), good_contacts())))
    page = client.get(reverse("accounts:import_preview", args=[token]))
    assert page.status_code == 200
    assert b'data-testid="no-errors"' in page.content
    assert Customer.objects.count() == 0  # the preview writes nothing

    response = commit(client, token)
    assert response.status_code == 302
    first = Customer.objects.get(credit_code=CODE1)
    assert first.status == CustomerStatus.PROSPECT  # admitted only through admission
    assert first.primary_manager == staff["manager"]
    assert first.credit_limit == Decimal("0") and first.credit_terms == "prepaid"
    second = Customer.objects.get(credit_code=CODE2)
    assert second.industry == "it" and second.department == staff["manager"].department
    assert list(first.contacts.values_list("name", "is_primary", "birthday")) == [
        ("王伟", True, datetime.date(1980, 5, 1))
    ]
    assert second.contacts.get().phone == "13800000002"
    assert first.history.count() == 1
    assert AssignmentChange.objects.filter(customer=first).count() == 1
    log = DataTransferLog.objects.get(kind="import")
    assert (log.user, log.what, log.row_count) == (staff["manager"], "customers", 4)


def test_reimporting_the_same_file_changes_nothing(client_for, staff):
    client = client_for(staff["manager"])
    content = customer_file(good_rows(), good_contacts())
    commit(client, token_of(preview(client, content)))
    token = token_of(preview(client, content))
    page = client.get(reverse("accounts:import_preview", args=[token]))
    assert "unchanged" in page.content.decode() or "未变" in page.content.decode()
    commit(client, token)
    assert Customer.objects.count() == 2
    assert Contact.objects.count() == 2


def test_a_customer_matches_on_name_when_the_file_has_no_credit_code(client_for, staff):
    existing = CustomerFactory(
        name="上海华鼎机械有限公司", credit_code="", department=staff["manager"].department,
        primary_manager=staff["manager"],
    )  # fmt: skip
    rows = good_rows()[:1]
    rows[0][1] = CODE1
    client = client_for(staff["manager"])
    commit(client, token_of(preview(client, customer_file(rows))))
    existing.refresh_from_db()
    assert Customer.objects.count() == 1
    assert existing.credit_code == CODE1  # filled in, not duplicated
    assert existing.industry == "manufacturing"


ERROR_CASES = [
    (1, "91350100M000100Y4X", "bad credit code"),
    (8, "ghost", "unknown manager “ghost”"),
    (2, "Bogus", "“Bogus” is not one of"),
    (7, "north", "you may not import customers into department"),
]


@pytest.mark.parametrize(("column", "value", "message"), ERROR_CASES)
def test_the_preview_says_what_is_wrong_and_commit_writes_nothing(
    client_for, staff, settings, column, value, message
):
    settings.LANGUAGE_CODE = "en"
    rows = good_rows()
    rows[1][column] = value
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(rows)))
    page = client.get(reverse("accounts:import_preview", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Row 3, column" in text
    assert message in text.replace("&quot;", '"').replace("&#x27;", "'")
    response = commit(client, token)
    assert response.status_code == 302
    assert Customer.objects.count() == 0
    assert not DataTransferLog.objects.exists()


def test_duplicates_in_the_file_and_in_the_database_are_errors(client_for, staff, settings):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="杭州恒信软件有限公司", credit_code=CODE3, department=staff["head"].department
    )
    rows = good_rows()
    rows.append(list(rows[0]))
    client = client_for(staff["head"])
    token = token_of(preview(client, customer_file(rows)))
    text = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert "duplicate of row 2 (same credit code)" in text
    assert "duplicate of an existing customer" in text


def test_valid_rows_can_be_imported_without_the_failed_ones(client_for, staff):
    rows = good_rows()
    rows[1][1] = "bad"
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(rows, good_contacts())))
    commit(client, token)
    assert Customer.objects.count() == 0  # refused without the explicit choice
    commit(client, token, skip_invalid="1")
    assert list(Customer.objects.values_list("credit_code", flat=True)) == [CODE1]
    assert Contact.objects.count() == 1  # the contact of the failed customer failed too


def test_failed_rows_download_has_an_errors_column_and_can_be_fixed(client_for, staff, settings):
    settings.LANGUAGE_CODE = "en"
    rows = good_rows()
    rows[1][8] = "ghost"
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(rows)))
    response = client.get(reverse("accounts:import_failed_rows", args=[token]))
    content = response_bytes(response)
    data = read_xlsx(content)
    assert data[0][-1] in ("Errors", "错误")
    assert len(data) == 2 and data[1][0] == "杭州恒信软件有限公司"
    assert "unknown manager" in data[1][-1] or "ghost" in data[1][-1]
    # Fix the row in the downloaded file and upload it again.
    workbook = load_workbook(io.BytesIO(content))
    workbook.active["I2"] = "am_east1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    token = token_of(preview(client, buffer.getvalue()))
    commit(client, token)
    assert Customer.objects.filter(credit_code=CODE2).exists()


def test_a_manager_imports_only_customers_they_manage(client_for, staff, settings):
    settings.LANGUAGE_CODE = "en"
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(good_rows(manager="am_east2"))))
    text = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert "you may only import customers you manage" in text


def test_a_manager_may_not_update_another_managers_customer_nor_learn_its_name(
    client_for, staff, settings
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="呼和浩特隐秘商贸有限公司", credit_code=CODE1, department=staff["manager"].department,
        primary_manager=staff["manager2"],
    )  # fmt: skip
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(good_rows()[:1])))
    text = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    department = staff["manager"].department.name
    assert f"A customer of {department} outside your scope" in text.replace("&#x27;", "'")
    assert "呼和浩特隐秘" not in text
    commit(client, token, skip_invalid="1")
    assert Customer.objects.count() == 1


def test_a_head_imports_into_their_department(client_for, staff):
    client = client_for(staff["head"])
    commit(client, token_of(preview(client, customer_file(good_rows(manager="am_east2")))))
    assert Customer.objects.filter(primary_manager=staff["manager2"]).count() == 2


def test_finance_may_not_import(client_for, finance):
    assert client_for(finance).get(reverse("accounts:import_start")).status_code == 403


def test_another_users_upload_is_a_404(client_for, staff):
    token = token_of(preview(client_for(staff["manager"]), customer_file(good_rows())))
    other = client_for(staff["manager2"])
    assert other.get(reverse("accounts:import_preview", args=[token])).status_code == 404
    assert commit(other, token).status_code == 404
    assert Customer.objects.count() == 0


def test_committing_twice_imports_once(client_for, staff):
    client = client_for(staff["manager"])
    token = token_of(preview(client, customer_file(good_rows())))
    commit(client, token)
    response = commit(client, token)
    assert response.status_code in (302, 404)
    assert Customer.objects.count() == 2


def test_it_imports_transactions_and_skips_them_on_reimport(client_for, staff, settings):
    settings.LANGUAGE_CODE = "en"
    customer = CustomerFactory(
        credit_code=CODE1,
        department=staff["manager"].department,
        primary_manager=staff["manager"],
        credit_terms="credit",  # a prepaid customer's deliveries need confirmed payments
        credit_limit=Decimal("1000000"),
    )
    rows = [
        TRANSACTION_HEADERS,
        [CODE1, datetime.date(2026, 1, 5), 1200.5, 100, "SO-1"],
        [CODE1, "2026/02/05", "3,000", None, "SO-2"],
    ]
    client = client_for(staff["manager"])
    token = token_of(preview(client, xlsx_bytes(("ERP", rows)), kind="transactions"))
    commit(client, token)
    assert sorted(customer.transactions.values_list("reference", "amount")) == [
        ("SO-1", Decimal("1200.50")),
        ("SO-2", Decimal("3000.00")),
    ]
    token = token_of(preview(client, xlsx_bytes(("ERP", rows)), kind="transactions"))
    commit(client, token)
    assert Transaction.objects.count() == 2


TRANSACTION_ERRORS = [
    (1, "yesterday", "“yesterday” is not a date"),
    (2, -10, "the amount is negative"),
    (0, valid_credit_code(999), "unknown customer"),
    (4, "SO-1", "duplicate of row 2"),
]


@pytest.mark.parametrize(("column", "value", "message"), TRANSACTION_ERRORS)
def test_transaction_rows_with_errors(client_for, staff, settings, column, value, message):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        credit_code=CODE1, department=staff["manager"].department, primary_manager=staff["manager"]
    )
    rows = [
        TRANSACTION_HEADERS,
        [CODE1, datetime.date(2026, 1, 5), 1200.5, 100, "SO-1"],
        [CODE1, datetime.date(2026, 1, 6), 1300, 100, "SO-2"],
    ]
    rows[2][column] = value
    client = client_for(staff["manager"])
    token = token_of(preview(client, xlsx_bytes(("ERP", rows)), kind="transactions"))
    text = client.get(reverse("accounts:import_preview", args=[token])).content.decode()
    assert message in text
    commit(client, token)
    assert Transaction.objects.count() == 0


def test_an_existing_transaction_of_another_department_is_refused(client_for, staff, north):
    TransactionFactory(customer__credit_code=CODE1, customer__department=north)
    rows = [TRANSACTION_HEADERS, [CODE1, datetime.date(2026, 1, 5), 10, 1, "X"]]
    client = client_for(staff["manager"])
    token = token_of(preview(client, xlsx_bytes(("ERP", rows)), kind="transactions"))
    commit(client, token, skip_invalid="1")
    assert Transaction.objects.count() == 1


def test_the_templates_have_drop_down_lists(client_for, staff):
    client = client_for(staff["head"])
    for kind in ("customers", "transactions"):
        response = client.get(reverse("accounts:import_template", args=[kind]))
        assert response.status_code == 200
        workbook = load_workbook(io.BytesIO(response_bytes(response)))
        first = workbook.worksheets[0]
        assert first.freeze_panes == "A2"
        if kind == "customers":
            formulas = [v.formula1 for v in first.data_validations.dataValidation]
            assert len(formulas) >= 7
            lists = workbook["Lists"]
            assert lists.sheet_state == "hidden"
            values = {c.value for row in lists.iter_rows() for c in row}
            assert {"am_east1", "am_east2", "head_east"} <= values
            assert "am_north1" not in values


def test_an_empty_template_upload_says_there_are_no_rows(client_for, staff):
    client = client_for(staff["head"])
    template = response_bytes(client.get(reverse("accounts:import_template", args=["customers"])))
    response = preview(client, template)
    assert response.status_code == 200
    assert Customer.objects.count() == 0


def test_a_filled_in_template_imports(client_for, staff):
    client = client_for(staff["head"])
    template = response_bytes(client.get(reverse("accounts:import_template", args=["customers"])))
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    sheet.append(["南京天成物流有限公司", "", CODE3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    commit(client, token_of(preview(client, buffer.getvalue())))
    customer = Customer.objects.get()
    assert (customer.name, customer.credit_code, customer.department) == (
        "南京天成物流有限公司",
        CODE3,
        staff["head"].department,
    )


def test_imported_rows_get_their_history_record(client_for, staff):
    client = client_for(staff["manager"])
    commit(client, token_of(preview(client, customer_file(good_rows(), good_contacts()))))
    customer = Customer.objects.get(credit_code=CODE1)
    record = customer.history.get()
    assert (record.history_type, record.history_user) == ("+", staff["manager"])
    assert record.history_change_reason
    assert (record.name, record.department_id, record.credit_limit, record.created_at) == (
        customer.name,
        customer.department_id,
        customer.credit_limit,
        customer.created_at,
    )
    contact = customer.contacts.get()
    assert contact.history.get().birthday == contact.birthday
