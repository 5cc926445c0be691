"""Make periodic jobs safe to run twice at once."""

import zlib
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.db import connection


def serialize_job(name: str) -> None:
    """Inside a transaction, wait until no other run of the job `name` is in its transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are IMMEDIATE
    (see settings), so a writing transaction already excludes every other writer.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])


def chunks(items: Sequence, size: int | None = None) -> Iterator[Sequence]:
    """Yield slices of at most `size` items (default settings.JOB_CHUNK_SIZE).

    Jobs work on ids in chunks so that an IN list stays within SQLite's parameter limit and a
    statement's size stays bounded: their query count then grows with the number of chunks only.
    """
    size = size or settings.JOB_CHUNK_SIZE
    for start in range(0, len(items), size):
        yield items[start : start + size]
