"""Back up the database and the uploaded files into one folder.

PostgreSQL: `pg_dump --format=custom` (db.dump); SQLite: the sqlite3 online backup API
(db.sqlite3), safe while the app runs. Uploaded files: media.tar.gz. A manifest.json records
the database vendor, the applied migrations and a SHA-256 of every file, which restore_data
checks. Usage: manage.py backup_data [--output DIR]
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pg_env(db: dict) -> dict[str, str]:
    """Return the environment that points pg_dump / pg_restore at a database."""
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                          ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):  # fmt: skip
        if db.get(key):
            env[variable] = str(db[key])
    return env


class Command(BaseCommand):
    help = "Back up the database and the uploaded files (restore with restore_data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="Folder to write to (default: var/backups/<timestamp>); must not exist yet.",
        )

    def handle(self, *args, **options):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        output = Path(options["output"] or settings.VAR_DIR / "backups" / stamp)
        if output.exists() and any(output.iterdir()):
            raise CommandError(f"{output} is not empty.")
        output.mkdir(parents=True, exist_ok=True)

        vendor = connection.vendor
        if vendor == "postgresql":
            database_file = output / "db.dump"
            result = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 "--file", str(database_file)],
                env=pg_env(connection.settings_dict), capture_output=True, text=True,
            )  # fmt: skip
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        elif vendor == "sqlite":
            database_file = output / "db.sqlite3"
            connection.ensure_connection()
            target = sqlite3.connect(database_file)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        else:
            raise CommandError(f"No backup method for the {vendor} database.")

        media_file = output / "media.tar.gz"
        media_root = Path(settings.MEDIA_ROOT)
        with tarfile.open(media_file, "w:gz") as tar:
            if media_root.is_dir():
                tar.add(media_root, arcname="media")

        migrations = sorted(
            f"{app}.{name}"
            for app, name in MigrationRecorder(connection).migration_qs.values_list("app", "name")
        )
        manifest = {
            "created_at": timezone.now().isoformat(),
            "vendor": vendor,
            "migrations": migrations,
            "files": {p.name: sha256(p) for p in (database_file, media_file)},
        }
        (output / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.stdout.write(f"Backup written to {output}")
        return None
