"""A large A-tier contract from draft to in force, each person in their own browser session.

Drives Debian's Chromium through Playwright's sync API against pytest-django's live server.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from accounts.models import CustomerStatus
from contracts.models import Contract, ContractStatus, StepStatus
from tests.browser.helpers import screenshot
from tests.factories import PASSWORD, PDF_BYTES, CustomerFactory

# The session's Chromium comes from tests/browser/conftest.py: it skips without Chromium, or
# fails under CI, and keeps the role groups across this transactional journey.
pytestmark = [pytest.mark.browser]


def _log_in(browser, live_server, user):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))
    return page


def _approve(browser, live_server, user, contract, step_order: int):
    page = _log_in(browser, live_server, user)
    page.goto(f"{live_server.url}/contracts/waiting/")
    page.click(f"text={contract.number}")
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", f"{user.username} 同意")
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    step = contract.steps.get(order=step_order)
    assert step.status == StepStatus.APPROVED and step.decided_by == user
    return page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_a_tier_contract_from_draft_to_in_force(
    browser, live_server, manager, head, finance, executive, tmp_path
):
    customer = CustomerFactory(
        name="上海华鼎精密仪器有限公司",
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.ACTIVE,
        tier="A",
    )

    # The manager drafts and submits the contract.
    page = _log_in(browser, live_server, manager)
    page.goto(f"{live_server.url}/contracts/new/?customer={customer.pk}")
    page.fill("input[name=title]", "年度设备采购合同")
    page.fill("input[name=amount]", "6000000")
    page.fill("input[name=discount_percent]", "5")
    page.fill("input[name=start_date]", "2026-12-01")
    page.fill("input[name=end_date]", "2027-11-30")
    page.fill("textarea[name=payment_terms]", "预付30%，验收后付清")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=contract-number]")
    contract = Contract.objects.get()
    assert contract.amount == Decimal("6000000.00")
    page.click("[data-testid=submit-contract]")
    page.wait_for_selector("[data-testid=current-step]")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PENDING
    assert list(contract.steps.values_list("decider_role", flat=True)) == [
        "department_head",
        "finance",
        "executive",
    ]
    screenshot(page, "contract-journey-1-submitted")

    # Head, finance and an executive approve in turn, each from their own log-in.
    _approve(browser, live_server, head, contract, 1)
    _approve(browser, live_server, finance, contract, 2)
    page = _approve(browser, live_server, executive, contract, 3)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPROVED
    screenshot(page, "contract-journey-2-approved")

    # The owner marks it signed with the scan: an A-tier contract then waits for filing.
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(PDF_BYTES)
    page = _log_in(browser, live_server, manager)
    page.goto(f"{live_server.url}{contract.get_absolute_url()}")
    page.click("[data-testid=sign-link]")
    page.set_input_files("input[name=signed_scan]", str(scan))
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=contract-number]")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED

    # Finance files it (备案); it is then in force.
    page = _log_in(browser, live_server, finance)
    page.goto(f"{live_server.url}{contract.get_absolute_url()}")
    page.click("[data-testid=file-link]")
    page.fill("input[name=filing_reference]", "BA-2026-001")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=contract-number]")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.filed_by == finance and contract.filed_on is not None
    assert page.locator("[data-testid=filing]").inner_text().find("BA-2026-001") >= 0
    screenshot(page, "contract-journey-3-active")
