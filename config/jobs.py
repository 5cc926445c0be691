"""Make periodic jobs safe to run twice at once."""

import zlib

from django.db import connection


def serialize_job(name: str) -> None:
    """Inside a transaction, wait until no other run of the job `name` is in its transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are IMMEDIATE
    (see settings), so a writing transaction already excludes every other writer.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
