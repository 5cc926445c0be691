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


def history_record_changes(queryset, *, reason: str, when) -> int:
    """Write a django-simple-history "changed" entry for every row of `queryset`, in one
    INSERT … SELECT, as save() would after a conditional update(); return how many.

    The historical table repeats the tracked columns under the same names.
    """
    model = queryset.model
    history = model.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    rows_sql, rows_params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({columns}, history_date, "
            "history_change_reason, history_type, history_user_id) "
            f"SELECT {columns}, %s, %s, %s, NULL FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(model._meta.pk.column)} IN ({rows_sql})",
            [connection.ops.adapt_datetimefield_value(when), reason[:100], "~", *rows_params],
        )
        return max(cursor.rowcount, 0)
