"""docker-compose.yml cannot run here; check its shape and that .env.example covers it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_production_shape_is_there(compose):
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat", "migrate"} <= set(services)
    for name in ("db", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"].endswith("production")
        assert any(v.startswith("media:") for v in services[name]["volumes"])
    assert {"pgdata", "media"} <= set(compose["volumes"])


def test_env_example_names_every_variable_compose_needs():
    text = (ROOT / "docker-compose.yml").read_text()
    needed = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    example = (ROOT / ".env.example").read_text()
    defined = set(re.findall(r"^#?\s*(\w+)=", example, flags=re.M))
    assert needed <= defined
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"} <= defined
