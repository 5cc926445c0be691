"""A manager sees an overdue visit, records it with two colleagues, and the plan moves on.

Drives Debian's Chromium through Playwright's sync API against pytest-django's live server.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Customer
from tests.browser.helpers import screenshot
from tests.factories import PASSWORD, ContactFactory
from tests.visits.factories import active_customer
from visits.models import PlannedVisit, VisitRecord, VisitStatus
from visits.services import visit_plan_regenerate

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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_manager_records_an_overdue_visit_with_two_colleagues(
    browser, live_server, manager, manager2, head
):
    today = timezone.localdate()
    customer = active_customer(manager, tier="A", name="上海华鼎精密仪器有限公司")
    # Admitted 40 days ago and never visited: the 30-day visit is 10 days overdue.
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=40))
    contact = ContactFactory(customer=customer, name="王总")
    visit_plan_regenerate()
    planned = PlannedVisit.objects.get(customer=customer)
    assert planned.due_date == today - timedelta(days=10)

    page = _log_in(browser, live_server, manager)
    home = page.locator("[data-testid=home-overdue-visits]")
    if home.count():  # the home page shows it once the dashboard includes the partial
        assert customer.name in home.inner_text()
    page.goto(f"{live_server.url}/visits/")
    overdue_row = page.locator("tr[data-overdue='1']")
    assert overdue_row.count() == 1 and customer.name in overdue_row.inner_text()
    screenshot(page, "visit-journey-1-overdue")

    overdue_row.locator(f"a[href='/visits/customers/{customer.pk}/record/']").click()
    page.wait_for_url(re.compile(r"/record/$"))
    form = page.locator("[data-testid=record-form]")
    assert page.is_checked(f"input[name=participants][value='{manager.pk}']")
    page.select_option("select[name=kind]", "on_site")
    page.fill("input[name=purpose]", "季度业务回顾")
    page.fill("textarea[name=summary]", "客户计划扩大采购，关注交付周期。")
    page.check(f"input[name=contacts][value='{contact.pk}']")
    page.select_option("select[name=satisfaction]", "5")
    # Alone, the first visit is refused with a clear message on the participants.
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, .text-danger, .alert-danger").count() >= 1
    assert not VisitRecord.objects.exists()
    screenshot(page, "visit-journey-2-two-participants-rule")

    page.check(f"input[name=participants][value='{manager2.pk}']")
    page.check(f"input[name=participants][value='{head.pk}']")
    page.locator("[data-testid=record-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/visits/records/\d+/$"))
    record = VisitRecord.objects.get()
    assert set(record.participants.all()) == {manager, manager2, head}
    assert list(record.contacts.all()) == [contact]

    planned.refresh_from_db()
    assert planned.status == VisitStatus.COMPLETED and planned.completed_by_record == record
    following = PlannedVisit.objects.open().get(customer=customer)
    assert following.due_date == today + timedelta(days=30)

    page.goto(f"{live_server.url}/visits/")
    assert page.locator("tr[data-overdue='1']").count() == 0
    row = page.locator("[data-testid=plan-row]", has_text=customer.name)
    assert (today + timedelta(days=30)).isoformat() in row.inner_text()
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=visits")
    assert "季度业务回顾" in page.locator("[data-testid=visit-timeline]").inner_text()
    screenshot(page, "visit-journey-3-timeline")
