"""The README describes what the code does: the parts a newcomer reads first."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

from accounts.views import CUSTOMER_TABS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_lists_the_customer_page_tabs_the_page_has_in_its_order():
    row = next(line for line in README.splitlines() if line.startswith("| Customer archive |"))
    listed = re.search(r"a page per customer with tabs \(([^)]*)\)", row).group(1)

    assert listed.split(", ") == [name for name, _label, _loader in CUSTOMER_TABS]


def test_every_command_example_runs_as_written_with_the_projects_virtualenv():
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    examples = [line for line in lines if "manage.py" in line and "docker compose" not in line]

    assert examples
    assert [line for line in examples if not line.startswith(".venv/bin/python manage.py ")] == []
    commands = get_commands()
    named = {name for line in examples for name in re.findall(r"manage\.py (\w+)", line)}
    named |= set(re.findall(r"`(?:\.venv/bin/python )?manage\.py (\w+)", README))
    assert named - set(commands) == set()
