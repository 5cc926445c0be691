"""Restore a backup made by backup_data into an empty database and media folder.

Stop the web, worker and beat processes first. PostgreSQL: `pg_restore` in one transaction
into an empty database (create it with createdb); SQLite: the sqlite3 backup API into the
configured file. Uploaded files are unpacked into MEDIA_ROOT. The manifest's checksums are
verified before anything is written. Usage: manage.py restore_data DIR [--force]
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts import permissions
from config import page_cache

from .backup_data import pg_env, sha256


class Command(BaseCommand):
    help = "Restore a backup made by backup_data into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The folder backup_data wrote.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even though the database already has tables (they are replaced).",
        )

    def handle(self, *args, **options):
        folder = Path(options["backup"])
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"{folder} holds no readable manifest.json: {error}") from error
        for name, digest in manifest["files"].items():
            path = folder / name
            if not path.is_file() or sha256(path) != digest:
                raise CommandError(f"{path} is missing or damaged (checksum mismatch).")
        vendor = connection.vendor
        if manifest["vendor"] != vendor:
            raise CommandError(
                f"The backup is of a {manifest['vendor']} database; this one is {vendor}."
            )
        tables = connection.introspection.table_names()
        if tables and not options["force"]:
            raise CommandError(
                f"The database already has {len(tables)} tables; restore into an empty "
                "database, or pass --force to replace them."
            )

        if vendor == "postgresql":
            name = connection.settings_dict["NAME"]
            command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                       "--single-transaction", "--dbname", name]  # fmt: skip
            if tables:
                command += ["--clean", "--if-exists"]
            connection.close()
            result = subprocess.run(
                [*command, str(folder / "db.dump")],
                env=pg_env(connection.settings_dict),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            connection.ensure_connection()
            source = sqlite3.connect(folder / "db.sqlite3")
            try:
                source.backup(connection.connection)
            finally:
                source.close()
            connection.close()

        media_root = Path(settings.MEDIA_ROOT)
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(folder / "media.tar.gz", "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                if member.name == "media":
                    continue
                member.name = member.name.removeprefix("media/")
                members.append(member)
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            tar.extractall(media_root, members=members, filter="data")
        # The restore wrote around Django's connection: no page or role cached before it holds.
        page_cache.data_changed()
        permissions.roles_changed()
        self.stdout.write(f"Restored {folder} ({len(manifest['migrations'])} migrations applied)")
