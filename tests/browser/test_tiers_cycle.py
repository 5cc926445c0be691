"""A whole grading cycle in a real browser: regrade → override → publish → appeal → upheld."""

import os
import re

import pytest

from accounts.models import Customer
from tests.factories import PASSWORD
from tests.tiers.factories import big_profit_customer, worked_example_customer

pytestmark = [pytest.mark.browser]

# Playwright's sync API runs an event loop in this thread; the ORM calls here are test setup.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's Chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def log_in(browser, live_server, user):
    page = browser.new_page(locale="en-GB")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    # Work in English so the assertions read naturally.
    page.click("nav button[value=en]")
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

    # The executive publishes.
    gm.goto(run_url)
    gm.click("[data-testid=publish]")
    assert "Published" in gm.inner_text("[data-testid=run-status]")

    # The customer page shows the new tier and its history; the manager appeals.
    am.goto(f"{url}/customers/{customer.pk}/?tab=tier")
    assert am.inner_text("[data-testid=current-tier]").strip().startswith("B")
    assert "Grading published 2026Q3" in am.inner_text("[data-testid=tier-history]")
    am.click("text=Appeal this grade")
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
    assert Customer.objects.get(pk=customer.pk).tier == "A"
