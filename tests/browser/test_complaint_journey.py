"""A complaint from intake through escalation, resolution, an unsatisfied customer reopening
it, and the final confirmation, each person in their own browser session.

Drives Debian's Chromium through Playwright's sync API against pytest-django's live server.
"""

from __future__ import annotations

import re

import pytest

from accounts.models import CustomerStatus
from complaints.models import Complaint, Status
from tests.browser.helpers import screenshot
from tests.factories import PASSWORD, PDF_BYTES, ContactFactory, CustomerFactory

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


def _transition(page, to_status: str, comment: str = "") -> None:
    if comment:
        page.fill("#transition-comment", comment)
    page.click(f"[data-testid=to-{to_status}]")
    page.wait_for_selector("[data-testid=reference]")


def _verdict(page, satisfaction: int, comment: str) -> None:
    page.check(f"input[name=satisfaction][value='{satisfaction}']")
    page.fill("textarea[name=comment]", comment)
    page.click("[data-testid=record-verdict]")
    page.wait_for_selector("[data-testid=reference]")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_complaint_from_intake_to_the_customers_confirmation(
    browser, live_server, manager, head, tmp_path
):
    customer = CustomerFactory(
        name="上海华鼎精密仪器有限公司",
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.ACTIVE,
        tier="A",
    )
    contact = ContactFactory(customer=customer, name="王采购")
    photo = tmp_path / "质量问题照片.pdf"
    photo.write_bytes(PDF_BYTES)

    # Intake: the manager registers the complaint from the customer's page.
    page = _log_in(browser, live_server, manager)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}?tab=complaints")
    page.click("[data-testid=new-complaint]")
    page.select_option("select[name=contact]", str(contact.pk))
    page.select_option("select[name=channel]", "phone")
    page.select_option("select[name=category]", "product_quality")
    page.select_option("select[name=severity]", "critical")
    page.fill("textarea[name=description]", "第42批次精密轴承尺寸超差，产线停工。")
    page.set_input_files("input[name=attachments]", str(photo))
    page.click("[data-testid=register]")
    page.wait_for_selector("[data-testid=reference]")
    complaint = Complaint.objects.get()
    assert re.fullmatch(r"CP-\d{4}-000001", complaint.reference)
    assert page.inner_text("[data-testid=reference]") == complaint.reference
    assert complaint.assignee == manager and complaint.attachments.count() == 1
    assert page.locator("[data-testid=time-left]").count() >= 1
    screenshot(page, "complaint-journey-1-registered")

    # The manager acknowledges it, then escalates it: beyond a manager's reach.
    _transition(page, Status.ACKNOWLEDGED, "已电话联系客户")
    _transition(page, Status.ESCALATED, "需要更换整批货物，超出本人权限")
    complaint.refresh_from_db()
    assert complaint.status == Status.ESCALATED and complaint.escalated_to == head

    # The head sees it in their list, takes it and resolves it.
    page = _log_in(browser, live_server, head)
    page.goto(f"{live_server.url}/complaints/?scope=mine")
    page.click(f"text={complaint.reference}")
    screenshot(page, "complaint-journey-2-escalated")
    _transition(page, Status.RESOLVED, "已安排整批更换并补偿运费")
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED

    # The customer is not satisfied: the manager records it and the complaint reopens.
    page = _log_in(browser, live_server, manager)
    page.goto(f"{live_server.url}{complaint.get_absolute_url()}")
    _verdict(page, 2, "更换太慢，仍影响生产")
    complaint.refresh_from_db()
    assert complaint.status == Status.REOPENED and complaint.satisfaction == 2
    screenshot(page, "complaint-journey-3-reopened")

    # Worked again and resolved; this time the customer confirms.
    _transition(page, Status.IN_PROGRESS, "加急空运替换件")
    _transition(page, Status.RESOLVED, "替换件已到货，客户验收合格")
    _verdict(page, 5, "非常满意")
    complaint.refresh_from_db()
    assert complaint.status == Status.CONFIRMED
    assert (complaint.satisfaction, complaint.satisfaction_comment) == (5, "非常满意")
    assert list(complaint.events.values_list("to_status", flat=True)) == [
        Status.NEW,
        Status.ACKNOWLEDGED,
        Status.ESCALATED,
        Status.RESOLVED,
        Status.REOPENED,
        Status.IN_PROGRESS,
        Status.RESOLVED,
        Status.CONFIRMED,
    ]
    assert page.locator("[data-testid=timeline] li").count() == 8
    assert "5/5" in page.inner_text("[data-testid=satisfaction]")
    screenshot(page, "complaint-journey-4-confirmed")
