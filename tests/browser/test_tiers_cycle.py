"""A whole grading cycle in a real browser: regrade → override → confirm and publish → appeal →
upheld."""

import pytest

from accounts.models import Customer
from tests.browser.helpers import login, screenshot
from tests.factories import PASSWORD
from tests.tiers.factories import big_profit_customer, worked_example_customer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def log_in(browser, live_server, user):
    """A page of its own (own cookies) for this user, switched to English."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    login(page, live_server.url, user.username, PASSWORD)
    page.click("nav button[value=en]")
    page.wait_for_load_state()
    return page


def test_a_full_grading_cycle(browser, live_server, executive, head, manager, east):
    customer = worked_example_customer(department=east, primary_manager=manager)
    big_profit_customer(department=east, primary_manager=manager)
    url = live_server.url

    # An executive regrades the quarter and sends it for review.
    gm = log_in(browser, live_server, executive)
    gm.goto(f"{url}/tiers/")
    gm.fill("input[name=period]", "2026Q3")
    gm.click("text=Compute grades")
    gm.wait_for_selector("[data-testid=grade-table]")
    assert "Computed" in gm.inner_text("[data-testid=run-status]")
    run_url = gm.url
    gm.click("text=Send for review")
    assert "Under review" in gm.inner_text("[data-testid=run-status]")

    # The manager may not override or publish.
    am = log_in(browser, live_server, manager)
    am.goto(run_url)
    assert am.locator("text=Override").count() == 0
    assert am.locator("[data-testid=publish]").count() == 0

    # The head overrides the worked example (65.9, C) to B with a reason.
    hd = log_in(browser, live_server, head)
    hd.goto(run_url)
    assert hd.locator("[data-testid=publish]").count() == 0
    row = hd.locator(f"[data-testid=grade-{customer.pk}]")
    assert "65.9" in row.inner_text()
    override_href = row.locator("text=Override").get_attribute("href")
    response = am.goto(url + override_href)
    assert response.status == 403
    row.locator("text=Override").click()
    hd.select_option("select[name=tier]", "B")
    hd.fill("textarea[name=reason]", "Strategic account: new framework agreement")
    hd.click("main button[type=submit]")
    assert "Overridden from C" in hd.inner_text(f"[data-testid=grade-{customer.pk}]")

    # The executive publishes, through the confirmation: both customers are graded for the
    # first time, the worked example at B.
    gm.goto(run_url)
    gm.click("[data-testid=publish]")
    gm.wait_for_selector("[data-testid=distribution]")
    assert gm.inner_text("[data-testid=distribution-none] [data-testid=now]") == "2"
    assert gm.inner_text("[data-testid=distribution-none] [data-testid=after]") == "0"
    assert gm.inner_text("[data-testid=distribution-B] [data-testid=after]") == "1"
    assert "2 customers change tier" in gm.inner_text("[data-testid=change-count]")
    assert gm.locator(f"[data-testid=change-{customer.pk}]").count() == 1
    screenshot(gm, "tiers-publish-confirmation")
    gm.click("[data-testid=confirm-publish]")
    assert "Published" in gm.inner_text("[data-testid=run-status]")
    screenshot(gm, "tiers-run-published")

    # The customer page shows the new tier and its history; the manager appeals.
    am.goto(f"{url}/customers/{customer.pk}/?tab=tier")
    assert am.inner_text("[data-testid=current-tier]").strip().startswith("B")
    assert "Grading published 2026Q3" in am.inner_text("[data-testid=tier-history]")
    am.click("[data-testid=appeal-grade]")
    assert "2026Q3" in am.inner_text("h1")
    am.select_option("select[name=requested_tier]", "A")
    am.fill("textarea[name=reason]", "Signed a three-year contract in September")
    am.click("main button[type=submit]")
    assert "Pending" in am.inner_text("[data-testid=appeal-status]")
    appeal_url = am.url
    assert am.locator("text=Record the decision").count() == 0

    # The head upholds it: the tier changes.
    hd.goto(appeal_url)
    hd.check("input[value=uphold]")
    hd.fill("textarea[name=comment]", "Agreed")
    hd.click("text=Record the decision")
    assert "Upheld" in hd.inner_text("[data-testid=appeal-status]")
    am.goto(f"{url}/customers/{customer.pk}/?tab=tier")
    assert am.inner_text("[data-testid=current-tier]").strip().startswith("A")
    assert "Appeal upheld" in am.inner_text("[data-testid=tier-history]")
    screenshot(am, "tiers-customer-tab-after-appeal")
    assert Customer.objects.get(pk=customer.pk).tier == "A"
