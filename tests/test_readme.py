"""The README describes what the code does: the parts a newcomer reads first."""

from __future__ import annotations

import re
from pathlib import Path

from accounts.views import CUSTOMER_TABS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_lists_the_customer_page_tabs_the_page_has_in_its_order():
    row = next(line for line in README.splitlines() if line.startswith("| Customer archive |"))
    listed = re.search(r"a page per customer with tabs \(([^)]*)\)", row).group(1)

    assert listed.split(", ") == [name for name, _label, _loader in CUSTOMER_TABS]
