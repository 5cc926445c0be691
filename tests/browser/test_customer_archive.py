"""A prospect's way into the archive: created, checked for duplicates, documented, admitted."""

from __future__ import annotations

import re

import pytest

from accounts.models import REQUIRED_DOCUMENTS, Customer, CustomerStatus, CustomerType
from tests.browser.helpers import login, screenshot
from tests.factories import PASSWORD, PDF_BYTES, CustomerFactory, valid_credit_code
from tests.helpers import zh

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def save(page) -> None:
    page.get_by_role("button", name=zh("Save"), exact=True).click()
    page.wait_for_load_state()


def test_a_manager_files_a_prospect_and_the_head_admits_it(
    live_server, page, new_page, manager, head
):
    CustomerFactory(
        name="华鼎精密仪器有限公司",
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.ACTIVE,
    )
    base = live_server.url

    login(page, base, manager.username, PASSWORD)
    page.goto(f"{base}/customers/new/")
    page.fill("#id_name", "华鼎精密仪器股份有限公司")
    page.fill("#id_short_name", "华鼎仪器")
    page.fill("#id_credit_code", valid_credit_code(424242))
    page.fill("#id_province", "江苏省")
    page.fill("#id_city", "苏州")
    save(page)
    warning = page.get_by_test_id("duplicate-warning")
    assert "华鼎精密仪器有限公司" in warning.inner_text()
    screenshot(page, "archive-01-duplicate-warning")

    page.check("#id_confirm_duplicate")
    save(page)
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="华鼎精密仪器股份有限公司")
    assert customer.primary_manager == manager
    assert page.get_by_test_id("customer-status").inner_text() == zh("Prospect")
    screenshot(page, "archive-02-prospect-created")

    for kind in REQUIRED_DOCUMENTS[CustomerType.ENTERPRISE]:
        page.goto(f"{base}/customers/{customer.pk}/documents/new/")
        page.select_option("#id_kind", str(kind))
        page.set_input_files(
            "#id_file", {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
        )
        save(page)
        page.wait_for_url(re.compile(r"\?tab=documents$"))
    assert "✗" not in page.get_by_test_id("checklist").inner_text()
    screenshot(page, "archive-03-documents-complete")

    page.get_by_role("button", name=zh("Submit for admission")).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("customer-status").inner_text() == zh("Pending admission")
    screenshot(page, "archive-04-submitted")

    head_page = new_page()
    login(head_page, base, head.username, PASSWORD)
    head_page.goto(f"{base}{customer.get_absolute_url()}")
    head_page.get_by_role("link", name=zh("Decide admission")).click()
    head_page.wait_for_url(re.compile(r"/admission/decide/$"))
    # Approval needs every document verified: the head verifies them from the same page.
    verify = head_page.locator("[data-testid^=verify-]")
    while verify.count():
        with head_page.expect_navigation():
            verify.first.click()
    head_page.check("input[name=decision][value=approve]")
    screenshot(head_page, "archive-05-admission-decision")
    head_page.get_by_role("button", name=zh("Record decision")).click()
    head_page.wait_for_url(re.compile(r"/customers/\d+/$"))

    assert head_page.get_by_test_id("customer-status").inner_text() == zh("Active")
    screenshot(head_page, "archive-06-active")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
