"""Local settings with a .env copied from .env.example: `make run` keeps serving on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run apart from the test settings: load the local settings, then ask for the log-in page on
# the addresses `make run` serves on, and on the production host the example names.
PROBE = """
import json, django
from django.test import Client
django.setup()
from django.conf import settings
statuses = {
    host: Client().get("/login/", HTTP_HOST=host).status_code
    for host in ("127.0.0.1:8000", "localhost:8080", "[::1]:8000", "crm.example.com", "evil.test")
}
print(json.dumps({"allowed": settings.ALLOWED_HOSTS, "statuses": statuses}))
"""


def example_variables() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^(\w+)=(.*)$", text, flags=re.M))


def test_local_settings_with_the_example_env_still_serve_loopback(tmp_path):
    variables = example_variables()
    assert variables["DJANGO_ALLOWED_HOSTS"] == "crm.example.com"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CACHE_"))
    }
    env.update(variables)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["statuses"] == {
        "127.0.0.1:8000": 200,
        "localhost:8080": 200,
        "[::1]:8000": 200,
        "crm.example.com": 200,
        "evil.test": 400,
    }
