"""Playwright fixtures for the browser journeys of every app.

Write a journey as ``tests/browser/test_<app>_<journey>.py`` (these fixtures are visible only
under this folder):

    import pytest

    from tests.browser.helpers import login, screenshot
    from tests.factories import PASSWORD, UserFactory

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True,
                                                             serialized_rollback=True)]

    def test_a_manager_files_a_visit(live_server, page, manager):
        login(page, live_server.url, manager.username, PASSWORD)
        page.goto(f"{live_server.url}/visits/")
        screenshot(page, "visits-list")

``live_server`` commits to the test database, so the journey needs a transactional database;
``serialized_rollback=True`` brings back the role groups that the data migration created
(the flush after a transactional test removes them). The standard users (``manager``,
``head``, ``finance``, …) come from tests/conftest.py; their password is
``tests.factories.PASSWORD``. Pages open in Simplified Chinese, as for a user in China. The
page cache is on, as in production.

Chromium is Debian's (/usr/bin/chromium). Without it the journeys are skipped with the reason,
except under CI (CI=true), where a missing browser fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    """The journeys run as production does, with the page cache (config.page_cache) on: each
    page after a form, a decision or a job must show the change, never the page from before."""
    settings.PAGE_CACHE_SECONDS = 60


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Iterator:
    """Return a headless Chromium shared by the whole session."""
    _require_chromium()
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses
    # ORM calls from a thread with a running loop. Tests stay synchronous, so allow them while
    # the browser lives (the database teardown may happen before or after it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Under that loop Django hands out other connection objects than before it started, and
    # they lack the database contents saved at setup that serialized_rollback restores (the
    # role groups): give them those contents.
    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    playwright = sync_playwright().start()
    for alias, contents in serialized.items():
        connections[alias]._test_serialized_contents = contents
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser):
    """Return a function that opens a page in a fresh context (its own cookies, own login).

    Use it when a journey needs two people at once, e.g. a manager and the head.
    """
    contexts = []

    def open_page(locale: str = "zh-CN"):
        context = browser.new_context(locale=locale, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """Return a page whose browser asks for Simplified Chinese, like a user in China."""
    return new_page()
