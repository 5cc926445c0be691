"""Every journey keeps its screenshots where the README says: through helpers.screenshot."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import helpers

HERE = Path(__file__).resolve().parent


def test_no_journey_takes_a_screenshot_past_the_helper():
    direct = {
        path.name
        for path in HERE.glob("*.py")
        if path != Path(helpers.__file__).resolve()
        and re.search(r"\.screenshot\(", path.read_text())
    }

    assert direct == set()
    assert helpers.SCREENSHOT_DIR == helpers.BASE_DIR / "test-artifacts" / "screenshots"
