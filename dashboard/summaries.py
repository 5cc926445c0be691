"""The derived tables the reports and home pages read: the monthly sales, visit and feedback
summaries and the early-warning list. One job rebuilds them all in one transaction, every few
minutes (beat) and after a grading run is published; readers see the previous tables until it
commits."""

from __future__ import annotations

import logging
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer, CustomerStatus
from config import page_cache
from config.jobs import serialize_job

from . import activity, reports, sales
from .models import Heartbeat, MonthlyFeedback, MonthlySales, MonthlyVisits, RiskSignal
from .services import SUMMARIES

logger = logging.getLogger(__name__)

BATCH = 2000
# 1,000 rows of up to 9 values: within SQLite's 32,766 parameters per statement.
ROWS_PER_INSERT = 1000


def refresh_summaries(*, today: date | None = None) -> dict[str, int]:
    """Rebuild the monthly summaries and the early-warning list; return their row counts."""
    today = today or timezone.localdate()
    # Compute first: the write transaction (which holds SQLite's only write lock) then only
    # swaps the rows, in about a second at 100,000 customers instead of the whole job's time.
    risks = risk_signals(today)
    tables = [
        ("sales", MonthlySales, sales.SUMMARY_COLUMNS, sales.sales_summary_rows()),
        ("visits", MonthlyVisits, activity.VISIT_COLUMNS, activity.visit_summary_rows(today)),
        ("feedback", MonthlyFeedback, activity.FEEDBACK_COLUMNS, activity.feedback_summary_rows()),
    ]
    with transaction.atomic():
        serialize_job(SUMMARIES)
        counts = {}
        for name, model, columns, rows in tables:
            replace_rows(model, columns, rows)
            counts[name] = len(rows)
        replace_rows(
            RiskSignal,
            RISK_COLUMNS,
            [tuple(getattr(risk, column) for column in RISK_COLUMNS) for risk in risks],
        )
        counts["risks"] = len(risks)
        Heartbeat.objects.update_or_create(name=SUMMARIES, defaults={"beat_at": timezone.now()})
    logger.info("Summaries rebuilt: %s", counts)
    return counts


RISK_COLUMNS = [
    "customer_id",
    "last",
    "previous",
    "dropped_from",
    "dropped_to",
    "overdue_and_complaint",
    "rank",
    "computed_on",
]


def replace_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Replace every row of a derived table by `rows` (values in the order of `columns`).

    PostgreSQL takes them by COPY; SQLite by multi-row INSERTs of ROWS_PER_INSERT rows. Both
    write 50,000 rows in well under a second, where bulk_create or executemany took seconds
    (psycopg binds each parameter in Python).
    """
    model.objects.all().delete()  # a derived table, rebuilt here
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            page_cache.rows_written(connection)  # COPY passes by Django's execute wrappers
            return
        row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            values = ", ".join([row_marks] * len(chunk))
            params = [value for row in chunk for value in row]
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values}", params)  # noqa: S608


def risk_signals(today: date) -> list[RiskSignal]:
    """The early-warning list computed for today over every customer (unsaved rows)."""
    found = reports.risk_facts(Customer.objects.exclude(status=CustomerStatus.TERMINATED), today)
    rows = []
    for customer_id, facts in found.items():
        rank = reports.risk_rank(facts)
        if not rank:
            continue
        rows.append(
            RiskSignal(
                customer_id=customer_id,
                last=facts.get("last"),
                previous=facts.get("previous"),
                dropped_from=facts.get("dropped_from", ""),
                dropped_to=facts.get("dropped_to", ""),
                overdue_and_complaint=bool(facts.get("overdue_and_complaint")),
                rank=rank,
                computed_on=today,
            )
        )
    return rows
