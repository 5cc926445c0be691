"""Journey: a manager uploads a customer list, sees its errors, fixes the file, imports it."""

from __future__ import annotations

import pytest

from accounts.models import Contact, Customer
from tests.browser.helpers import login, screenshot
from tests.excel.conftest import CONTACT_HEADERS, CUSTOMER_HEADERS, xlsx_bytes
from tests.factories import PASSWORD, valid_credit_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
CODE1, CODE2 = valid_credit_code(301), valid_credit_code(302)


def workbook(second_manager: str, second_code: str) -> bytes:
    # Status and credit stay empty: an import sets neither (admission and credit requests do).
    customers = [
        CUSTOMER_HEADERS,
        ["苏州锦程精密仪器有限公司", CODE1, "企业", "制造业", "江苏省", "苏州", None, "east",
         "am_east1", None],
        ["宁波海纳物流有限公司", second_code, "企业", "Transport and logistics", "浙江省", "宁波",
         None, "east", second_manager, None],
    ]  # fmt: skip
    contacts = [
        CONTACT_HEADERS,
        ["苏州锦程精密仪器有限公司", "周杰", "采购总监", "13900000001", "zhou@example.cn", None,
         "是"],
    ]  # fmt: skip
    return xlsx_bytes(("客户", customers), ("联系人", contacts))


def upload(page, base_url, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    page.goto(f"{base_url}/customers/import/")
    page.check("input[name=kind][value=customers]")
    page.set_input_files("input[name=file]", str(path))
    page.locator("[data-testid=import-form] button[type=submit]").click()
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1] != "import")


def test_upload_preview_with_errors_fix_and_commit(live_server, page, manager, tmp_path, settings):
    settings.IMPORT_STASH_DIR = tmp_path / "stash"
    login(page, live_server.url, manager.username, PASSWORD)

    page.goto(f"{live_server.url}/customers/")
    page.click("[data-testid=import-link]")
    page.wait_for_url("**/customers/import/")
    screenshot(page, "excel-import-start")

    # A file with two mistakes: a credit code with a typo and a manager who does not exist.
    upload(page, live_server.url, tmp_path, "客户清单.xlsx",
           workbook("zhangsan", "91330200MA2GXXXX1X"))  # fmt: skip
    page.wait_for_selector("[data-testid=has-errors]")
    errors = page.locator("[data-testid=preview-customers] tr.table-danger")
    assert errors.count() == 1
    text = errors.first.inner_text()
    assert "3" in text and "zhangsan" in text
    assert page.locator("[data-testid=commit]").count() == 0  # no plain "import" with errors
    screenshot(page, "excel-import-preview-errors")
    assert Customer.objects.count() == 0

    # The failed rows come back as a workbook with an errors column.
    with page.expect_download() as download:
        page.click("[data-testid=failed-rows]")
    assert download.value.suggested_filename.endswith("-errors.xlsx")

    # Fix the file and upload it again: no errors, then import.
    upload(page, live_server.url, tmp_path, "客户清单-改.xlsx", workbook("am_east1", CODE2))
    page.wait_for_selector("[data-testid=no-errors]")
    screenshot(page, "excel-import-preview-clean")
    page.click("[data-testid=commit]")
    page.wait_for_load_state()
    screenshot(page, "excel-import-after-commit")
    page.wait_for_url(f"{live_server.url}/customers/")
    page.wait_for_selector(".alert-success")
    screenshot(page, "excel-import-done")

    assert set(Customer.objects.values_list("credit_code", flat=True)) == {CODE1, CODE2}
    assert Contact.objects.get().customer.credit_code == CODE1
    assert page.locator("[data-testid=customer-table]").inner_text().count("有限公司") == 2
