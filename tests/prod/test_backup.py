"""Back up, then restore into an empty database: the same rows and files come back.

Runs the commands as an operator would, in separate processes against real database files
(SQLite) or servers (PostgreSQL, marked postgres).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLES = ["accounts_customer", "accounts_contact", "accounts_transaction", "accounts_user",
          "accounts_qualificationdocument", "accounts_historicalcustomer"]  # fmt: skip
UPLOAD = (
    "from django.core.files.base import ContentFile\n"
    "from accounts.models import Customer, QualificationDocument\n"
    "c = Customer.objects.order_by('pk').first()\n"
    "QualificationDocument.objects.create(customer=c, kind='business_licence',"
    " file=ContentFile(b'%PDF-1.4 backup test', name='licence.pdf'))\n"
)


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def base_env(database_url: str, media: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media),
        REDIS_URL="",
    )
    return env


def seed(env: dict) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--customers", "8", "--password", "backup-pass-1")
    manage(env, "shell", "-c", UPLOAD)


def media_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def counts_sql(query) -> dict[str, int]:
    return {table: query(f"SELECT count(*) FROM {table}") for table in TABLES}


def test_sqlite_backup_restores_into_an_empty_database(tmp_path):
    source = base_env(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "media-src")
    seed(source)
    backup = tmp_path / "backup"
    manage(source, "backup_data", "--output", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert set(manifest["files"]) == {"db.sqlite3", "media.tar.gz"}

    target = base_env(f"sqlite:///{tmp_path / 'restored.sqlite3'}", tmp_path / "media-dst")
    manage(target, "restore_data", str(backup))

    def query_in(path):
        db = sqlite3.connect(path)
        return lambda sql: db.execute(sql).fetchone()[0]

    before = counts_sql(query_in(tmp_path / "source.sqlite3"))
    after = counts_sql(query_in(tmp_path / "restored.sqlite3"))
    assert after == before and before["accounts_customer"] == 8
    assert media_files(tmp_path / "media-dst") == media_files(tmp_path / "media-src")
    assert b"%PDF-1.4 backup test" in media_files(tmp_path / "media-dst").values()
    # The restored database is one the app can use: nothing left to migrate.
    assert "No planned migration" in manage(target, "migrate", "--plan")


def test_restore_refuses_a_database_that_is_not_empty_or_a_damaged_backup(tmp_path):
    env = base_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "media")
    manage(env, "migrate", "--noinput")
    backup = tmp_path / "backup"
    manage(env, "backup_data", "--output", str(backup))
    refused = subprocess.run(
        [sys.executable, "manage.py", "restore_data", str(backup)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and "already has" in refused.stderr
    (backup / "media.tar.gz").write_bytes(b"damaged")
    empty = base_env(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "media2")
    damaged = subprocess.run(
        [sys.executable, "manage.py", "restore_data", str(backup)],
        cwd=ROOT, env=empty, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert damaged.returncode != 0 and "damaged" in damaged.stderr


@pytest.mark.postgres
@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""), reason="needs DATABASE_URL (PostgreSQL)"
)
def test_postgresql_backup_restores_into_an_empty_database(tmp_path):
    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    names = ["crm_prod_backup_src", "crm_prod_backup_dst"]

    def reset(create: bool) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as pg:
            for name in names:
                pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if create:
                    pg.execute(f'CREATE DATABASE "{name}"')

    reset(create=True)
    try:
        source = base_env(f"{server}/{names[0]}", tmp_path / "media-src")
        seed(source)
        backup = tmp_path / "backup"
        manage(source, "backup_data", "--output", str(backup))
        assert (backup / "db.dump").stat().st_size > 0

        target = base_env(f"{server}/{names[1]}", tmp_path / "media-dst")
        redis_url = os.environ.get("REDIS_URL")
        if redis_url:  # the web processes' shared cache: no page from before the restore
            prefix = f"crm-restore-{os.getpid()}"
            target.update(CACHE_URL=redis_url, CACHE_KEY_PREFIX=prefix)
        manage(target, "restore_data", str(backup))
        if redis_url:
            import redis

            stored = redis.Redis.from_url(redis_url)
            assert stored.delete(f"{prefix}:1:page-cache:data-version") == 1
            assert stored.delete(f"{prefix}:1:roles:generation") == 1

        def query_in(name):
            db = psycopg.connect(f"{server}/{name}", autocommit=True)
            return lambda sql: db.execute(sql).fetchone()[0]

        before = counts_sql(query_in(names[0]))
        after = counts_sql(query_in(names[1]))
        assert after == before and before["accounts_customer"] == 8
        assert media_files(tmp_path / "media-dst") == media_files(tmp_path / "media-src")
        assert b"%PDF-1.4 backup test" in media_files(tmp_path / "media-dst").values()
        assert "No planned migration" in manage(target, "migrate", "--plan")
        # Sequences came along: a new row gets a fresh id.
        manage(target, "shell", "-c", UPLOAD)
    finally:
        reset(create=False)
