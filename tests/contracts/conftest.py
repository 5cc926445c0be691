"""Contracts tests: on SQLite, a file-backed test database so that threads can share it.

Django's default in-memory SQLite test database uses shared-cache mode, whose table locks fail
at once ("database table is locked") instead of waiting, which production (a WAL file with
IMMEDIATE transactions) never does. The concurrency tests need the production behaviour.
"""

from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})
        database["TEST"]["NAME"] = os.path.join(
            tempfile.gettempdir(), f"test_crm_contracts_{os.getpid()}.sqlite3"
        )
