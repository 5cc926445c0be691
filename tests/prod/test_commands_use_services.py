"""Management commands change data only through the services.

A command that wrote a model itself would skip the rules a service holds (who may, from which
state, what is recorded). seed_demo writes demo data and backup/restore copy whole databases:
they are the exceptions, named here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

EXCEPTIONS = {"seed_demo.py", "restore_data.py", "backup_data.py"}
WRITES = {
    "save",
    "update",
    "create",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}


def command_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted(
        path
        for path in root.glob("*/management/commands/*.py")
        if path.name != "__init__.py" and ".venv" not in path.parts
    )


def direct_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.parent.parent.parent.name}/{path.name}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]


def test_no_management_command_writes_a_model_itself():
    files = [path for path in command_files() if path.name not in EXCEPTIONS]
    assert len(files) >= 9  # the walk found the commands
    found = [write for path in files for write in direct_writes(path)]
    assert found == []


def test_the_check_sees_a_direct_write(tmp_path):
    command = tmp_path / "app" / "management" / "commands" / "bad.py"
    command.parent.mkdir(parents=True)
    command.write_text("Customer.objects.filter(pk=1).update(status='active')\n")
    assert direct_writes(command) == ["app/bad.py:1 .update()"]
