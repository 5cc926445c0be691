"""Exports: typed cells, formula injection, filters, visibility per role, bounded queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Customer, CustomerStatus, DataTransferLog
from accounts.spreadsheets import DATE, MONEY, Column, write_export
from tests.excel.conftest import response_bytes
from tests.factories import ContactFactory, CustomerFactory, TransactionFactory

INJECTION = '=HYPERLINK("http://x","y")'


def sheet_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(io.BytesIO(response_bytes(response))).active


def names_in(sheet) -> set[str]:
    return {row[0].value for row in sheet.iter_rows(min_row=2)}


@pytest.fixture
def customers(manager, manager2, other_manager, head, other_head):
    mine = CustomerFactory(
        name="上海华鼎机械有限公司", department=manager.department, primary_manager=manager,
        status=CustomerStatus.ACTIVE, credit_limit=Decimal("1234567.8"),
    )  # fmt: skip
    colleague = CustomerFactory(
        name="杭州恒信软件有限公司", department=manager.department, primary_manager=manager2
    )
    north = CustomerFactory(
        name="北京远航物流有限公司", department=other_manager.department,
        primary_manager=other_manager,
    )  # fmt: skip
    return {"mine": mine, "colleague": colleague, "north": north}


def test_a_name_that_looks_like_a_formula_is_exported_as_text(client_for, admin_user, east):
    CustomerFactory(name=INJECTION, department=east, notes="+cmd|' /C calc'!A0")
    sheet = sheet_of(client_for(admin_user).get(reverse("accounts:customer_export")))
    row = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    name, notes = row[0], row[-1]
    assert name.value == INJECTION
    assert name.data_type == "s"
    assert name.quotePrefix is True
    assert notes.data_type == "s" and notes.quotePrefix is True


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=A1"])
def test_every_formula_trigger_is_written_as_a_string_cell(text):
    buffer = io.BytesIO()
    write_export(buffer, columns=[Column("Text", lambda value: value)], rows=[text])
    cell = load_workbook(io.BytesIO(buffer.getvalue())).active["A2"]
    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix is True


def test_cells_are_typed_and_the_header_is_frozen(client_for, admin_user, customers, settings):
    response = client_for(admin_user).get(reverse("accounts:customer_export"))
    sheet = sheet_of(response)
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert "客户名称" in headers or "名称" in headers or "Name" in headers
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "上海华鼎机械有限公司"]
    (money,) = [cell for cell in row if cell.value == 1234567.8]
    assert money.data_type == "n" and money.number_format == "#,##0.00"
    assert sheet.column_dimensions["A"].width >= 30


def test_headers_follow_the_users_language(client_for, admin_user, east):
    CustomerFactory(department=east)
    client = client_for(admin_user)
    english = sheet_of(client.get(reverse("accounts:customer_export"), HTTP_ACCEPT_LANGUAGE="en"))
    assert english["A1"].value == "Name"
    client.cookies["django_language"] = "zh-hans"
    chinese = sheet_of(client.get(reverse("accounts:customer_export")))
    assert chinese["A1"].value != "Name"


def test_dates_are_dates_and_amounts_are_numbers(client_for, admin_user, east):
    TransactionFactory(
        customer__department=east, date=datetime.date(2026, 3, 15), amount=Decimal("99.5")
    )
    sheet = sheet_of(client_for(admin_user).get(reverse("accounts:transaction_export")))
    date_cell, amount = sheet["C2"], sheet["D2"]
    assert date_cell.is_date and date_cell.value.date() == datetime.date(2026, 3, 15)
    assert amount.value == 99.5 and amount.number_format == "#,##0.00"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("manager", {"上海华鼎机械有限公司"}),
        ("manager2", {"杭州恒信软件有限公司"}),
        ("head", {"上海华鼎机械有限公司", "杭州恒信软件有限公司"}),
        ("other_manager", {"北京远航物流有限公司"}),
        ("finance", {"上海华鼎机械有限公司", "杭州恒信软件有限公司", "北京远航物流有限公司"}),
        ("executive", {"上海华鼎机械有限公司", "杭州恒信软件有限公司", "北京远航物流有限公司"}),
        ("outsider", set()),
    ],
)
def test_an_export_holds_only_what_the_user_may_see(
    request, client_for, customers, finance, executive, outsider, who, expected
):
    user = request.getfixturevalue(who)
    client = client_for(user)
    assert names_in(sheet_of(client.get(reverse("accounts:customer_export")))) == expected
    for customer in Customer.objects.all():
        ContactFactory(customer=customer, name=f"c-{customer.pk}")
    contacts = sheet_of(client.get(reverse("accounts:contact_export")))
    assert names_in(contacts) == expected


def test_the_export_follows_the_lists_filters(client_for, head, customers):
    client = client_for(head)
    url = reverse("accounts:customer_export")
    assert names_in(sheet_of(client.get(url, {"status": "active"}))) == {"上海华鼎机械有限公司"}
    assert names_in(sheet_of(client.get(url, {"q": "恒信"}))) == {"杭州恒信软件有限公司"}
    # A manager filter naming someone outside the head's scope is invalid: nothing, no leak.
    other = customers["north"].primary_manager
    assert names_in(sheet_of(client.get(url, {"manager": other.pk}))) == set()


def test_transactions_export_by_date_range(client_for, admin_user, east):
    customer = CustomerFactory(department=east)
    for day in (1, 15, 28):
        TransactionFactory(customer=customer, date=datetime.date(2026, 2, day))
    response = client_for(admin_user).get(
        reverse("accounts:transaction_export"), {"date_from": "2026-02-10", "date_to": "2026-02-20"}
    )
    assert sheet_of(response).max_row == 2


def test_every_export_is_recorded(client_for, manager, customers):
    client = client_for(manager)
    client.get(reverse("accounts:customer_export"), {"status": "active"})
    log = DataTransferLog.objects.get()
    assert (log.user, log.kind, log.what, log.row_count, log.query) == (
        manager,
        "export",
        "customers",
        1,
        "status=active",
    )
    assert log.filename.endswith(".xlsx")


@pytest.mark.parametrize("count", [1, 40])
def test_the_export_runs_a_bounded_number_of_queries(
    client_for, head, manager, django_assert_max_num_queries, count
):
    for index in range(count):
        customer = CustomerFactory(
            name=f"c{index}", department=head.department, primary_manager=manager
        )
        ContactFactory(customer=customer)
        TransactionFactory(customer=customer)
    client = client_for(head)
    for name in ("customer_export", "contact_export", "transaction_export"):
        with django_assert_max_num_queries(8):
            response = client.get(reverse(f"accounts:{name}"))
            assert sheet_of(response).max_row == count + 1


def test_the_audit_log_is_read_only_in_admin(client_for, admin_user, customers):
    client = client_for(admin_user)
    client.get(reverse("accounts:customer_export"))
    assert client.get(reverse("admin:accounts_datatransferlog_changelist")).status_code == 200
    log = DataTransferLog.objects.get()
    page = client.get(reverse("admin:accounts_datatransferlog_change", args=[log.pk]))
    assert page.status_code == 200
    assert client.get(reverse("admin:accounts_datatransferlog_add")).status_code == 403


def test_the_money_format_and_date_format_of_the_writer():
    buffer = io.BytesIO()
    write_export(
        buffer,
        columns=[Column("Amount", "amount", MONEY), Column("Day", "day", DATE)],
        rows=[type("Row", (), {"amount": Decimal("-12.5"), "day": datetime.date(2026, 1, 2)})],
    )
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet["A2"].value == -12.5 and sheet["A2"].number_format == "#,##0.00"
    assert sheet["B2"].number_format == "yyyy-mm-dd"
