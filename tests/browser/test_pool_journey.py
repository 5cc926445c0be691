"""A neglected customer goes back to the pool (公海) and another manager claims it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AssignmentChange, AssignmentKind, Customer, CustomerStatus
from tests.browser.helpers import login, screenshot
from tests.factories import PASSWORD, CustomerFactory
from tests.helpers import zh

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_cold_customer_returns_to_the_pool_and_another_manager_claims_it(
    live_server, page, new_page, manager, manager2, head
):
    base = live_server.url
    customer = CustomerFactory(
        name="冷落客户有限公司",
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.ACTIVE,
        tier="D",
        notes="三年前的合作背景",
    )
    # The manager took it over 85 days ago and has not visited since: D returns after 90.
    AssignmentChange.objects.create(
        customer=customer,
        role="primary_manager",
        kind=AssignmentKind.CLAIM,
        new_user=manager,
        changed_by=manager,
        changed_at=timezone.now() - timedelta(days=85),
        reason="接手客户",
    )
    today = timezone.localdate()
    assert services.pool_return_run(today=today) == {"warned": 1, "returned": 0}

    login(page, base, manager.username, PASSWORD)
    page.goto(f"{base}/")
    warning = page.get_by_test_id("returning-soon")
    assert "冷落客户有限公司" in warning.inner_text()
    screenshot(page, "pool-1-home-warning")

    # Five days later nobody has visited: the job returns it to the pool.
    assert services.pool_return_run(today=today + timedelta(days=5)) == {
        "warned": 0,
        "returned": 1,
    }
    page.goto(f"{base}/notifications/")
    assert "冷落客户有限公司" in page.content()
    screenshot(page, "pool-2-manager-notified")

    other = new_page()
    login(other, base, manager2.username, PASSWORD)
    other.goto(f"{base}/customers/pool/")
    row = other.get_by_test_id("pool-table").locator("tr", has_text="冷落客户有限公司")
    screenshot(other, "pool-3-pool-list")
    row.get_by_role("button", name=zh("Claim")).click()
    other.wait_for_load_state()
    assert Customer.objects.get(pk=customer.pk).primary_manager == manager2

    other.goto(f"{base}/customers/{customer.pk}/?tab=managers")
    history = other.content()
    # Its full history is there for the new manager: the earlier owner and why it left.
    assert "接手客户" in history
    assert zh("No visit or information feedback for %(days)d days", days=90) in history
    screenshot(other, "pool-4-claimed-history")
    other.goto(f"{base}/customers/{customer.pk}/")
    assert "三年前的合作背景" in other.content()
