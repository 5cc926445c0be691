"""Grade every customer for a period with a few set-based queries.

One GROUP BY over the transactions of the 12-month window gives each customer's amount, count,
profit, payment record and active quarters; one window-function query picks the latest assessment
per customer and indicator on or before the period end and pivots it to one row per customer.
Both are LEFT JOINed to the graded customers and streamed in customer order; each row is scored
by the pure functions of tiers.scoring and the grades are inserted with bulk_create in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from accounts.models import Customer, CustomerStatus, Transaction

from . import scoring
from .models import Assessment, Grade, GradingRun, RunStatus, movement_between

BATCH_SIZE = 2000
# Rows per INSERT: SQLite allows 32,766 parameters per statement (12 per grade).
INSERT_BATCH = 1000
CENT = Decimal("0.01")
# Customers that are key accounts: prospects are not graded yet, terminated ones no longer.
GRADED_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.DORMANT)


def period_end_instant(period: scoring.Period) -> datetime:
    """The first instant after the period (exclusive bound), in the project's time zone."""
    return period.end_datetime(ZoneInfo(settings.TIME_ZONE))


def graded_customers(period: scoring.Period):
    """Customers graded for a period: key accounts that existed at its end."""
    return Customer.objects.filter(
        status__in=GRADED_STATUSES, created_at__lt=period_end_instant(period)
    )


def preceding_published_run(period: str) -> GradingRun | None:
    """The published (or closed) run of the latest period before this one: its grades' tiers
    are the previous tiers (上期等级) of this period's grades."""
    return (
        GradingRun.objects.filter(
            status__in=[RunStatus.PUBLISHED, RunStatus.CLOSED], period__lt=str(period)
        )
        .order_by("-period")
        .first()
    )


def preceding_tiers(period: str) -> dict[int, str]:
    """{customer id: tier} of the preceding published period's grades ({} when none)."""
    preceding = preceding_published_run(period)
    if preceding is None:
        return {}
    return dict(
        Grade.objects.filter(run=preceding)
        .values_list("customer_id", "tier")
        .iterator(chunk_size=BATCH_SIZE)
    )


def _plus() -> str:
    """SQLite: a unary + on a column keeps the planner off an index. Scanning the table beats
    walking the (customer, date) index with a random row lookup per transaction (20 s → 8 s
    for 2,000,000 rows). PostgreSQL plans this well on its own."""
    return "+" if connection.vendor == "sqlite" else ""


def _transaction_aggregates_sql(period: scoring.Period) -> tuple[str, list]:
    """One scan of the window's transactions, grouped by customer."""
    table = Transaction._meta.db_table
    p = _plus()
    day = connection.ops.adapt_datefield_value
    start, end = day(period.window_start), day(period.end)
    in_window = f"{p}date >= %s AND {p}date <= %s"
    due_in_window = "due_date >= %s AND due_date <= %s"
    quarters = ", ".join(
        f"MAX(CASE WHEN date >= %s AND date <= %s THEN 1 ELSE 0 END) AS q{index}"
        for index in range(4)
    )
    sql = (
        f"SELECT {p}customer_id AS customer_id, "
        f"SUM(CASE WHEN {in_window} THEN amount ELSE 0 END) AS amount, "
        f"SUM(CASE WHEN {in_window} THEN profit ELSE 0 END) AS profit, "
        f"COUNT(CASE WHEN {in_window} THEN 1 END) AS tx_count, "
        f"COUNT(CASE WHEN {due_in_window} THEN 1 END) AS due, "
        f"COUNT(CASE WHEN {due_in_window} AND paid_date IS NOT NULL AND paid_date <= due_date "
        f"THEN 1 END) AS on_time, {quarters} "
        f"FROM {table} WHERE ({in_window}) OR ({due_in_window}) GROUP BY {p}customer_id"
    )
    quarter_params = [day(d) for q in period.window_quarters for d in (q.start, q.end)]
    params = [start, end] * 3 + [start, end] * 2 + quarter_params + [start, end] * 2
    return sql, params


def total_profit(period: scoring.Period) -> Decimal:
    """All customers' profit in the window (the denominator of profit contribution)."""
    p = _plus()
    day = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(profit) FROM {Transaction._meta.db_table} "
            f"WHERE {p}date >= %s AND {p}date <= %s",
            [day(period.window_start), day(period.end)],
        )
        (value,) = cursor.fetchone()
    return scoring.D(value or 0).quantize(CENT)


def _latest_assessments_sql(period: scoring.Period, codes: list[str]) -> tuple[str, list]:
    """SQL of one row per customer with the latest value of each assessed code as columns.

    The latest assessed_at per (customer, indicator) comes from the covering index
    (customer, indicator_code, assessed_at); joining back on it finds the value. (Two
    assessments of one indicator at the very same instant: the higher value counts.)
    """
    table = Assessment._meta.db_table
    instant = connection.ops.adapt_datetimefield_value(period_end_instant(period))
    columns = "".join(
        f", MAX(CASE WHEN a.indicator_code = %s THEN a.value END) AS a{index}"
        for index in range(len(codes))
    )
    placeholders = ", ".join(["%s"] * len(codes)) or "NULL"
    sql = (
        f"SELECT a.customer_id AS customer_id{columns} FROM ("
        f"SELECT customer_id, indicator_code, MAX(assessed_at) AS latest FROM {table} "
        f"WHERE assessed_at < %s AND indicator_code IN ({placeholders}) "
        f"GROUP BY customer_id, indicator_code) m "
        f"JOIN {table} a ON a.customer_id = m.customer_id "
        f"AND a.indicator_code = m.indicator_code AND a.assessed_at = m.latest "
        f"GROUP BY a.customer_id"
    )
    return sql, [*codes, instant, *codes]


@dataclass
class CustomerRow:
    customer_id: int
    raws: dict[str, Decimal | None]


def customer_rows(
    period: scoring.Period, spec: scoring.ModelSpec, customers=None
) -> Iterator[CustomerRow]:
    """Yield each graded customer's raw measures, in customer id order.

    Three set-based queries: the transaction aggregates per customer, the latest assessments
    per customer, and the graded customers. The first two are held in dicts keyed by customer
    (about 100 bytes a customer) and joined while streaming the third: a SQL LEFT JOIN of the
    grouped subqueries is planned as a nested loop over the unindexed aggregate by SQLite.
    """
    customers = customers if customers is not None else graded_customers(period)
    assessed = [i.code for i in spec.indicators if not i.computed]
    denominator = total_profit(period)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A 128 MB page cache for the scans and GROUP BY sorts (the default is 2 MB).
            cursor.execute("PRAGMA cache_size = -131072")
        cursor.execute(*_transaction_aggregates_sql(period))
        aggregates = {row[0]: row[1:] for row in _fetch(cursor)}
        cursor.execute(*_latest_assessments_sql(period, assessed))
        assessments = {row[0]: row[1:] for row in _fetch(cursor)}
    no_purchases = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    no_assessments = (None,) * len(assessed)
    rows = customers.order_by("pk").values_list("pk", flat=True)
    for customer_id in rows.iterator(chunk_size=BATCH_SIZE):
        amount, profit, count, due, on_time, *quarters = aggregates.get(customer_id, no_purchases)
        raws = scoring.raws_from_aggregates(
            amount=scoring.D(amount or 0).quantize(CENT),
            count=int(count or 0),
            profit=scoring.D(profit or 0).quantize(CENT),
            total_profit=denominator,
            due=int(due or 0),
            on_time=int(on_time or 0),
            quarters_active=sum(int(q or 0) for q in quarters),
        )
        values = assessments.get(customer_id, no_assessments)
        for code, value in zip(assessed, values, strict=True):
            # One decimal in the database; a float's shortest repr gives it back exactly.
            raws[code] = None if value is None else scoring.D(value)
        yield CustomerRow(customer_id, raws)


def _fetch(cursor):
    while rows := cursor.fetchmany(BATCH_SIZE):
        yield from rows


GRADE_COLUMNS = (
    "run_id",
    "customer_id",
    "score",
    "computed_tier",
    "tier",
    "previous_tier",
    "movement",
    "incomplete",
    "breakdown",
    "override_reason",
    "overridden_by_id",
    "overridden_at",
)


def compute_grades(
    run: GradingRun,
    spec: scoring.ModelSpec,
    overrides: dict[int, dict] | None = None,
    customers=None,
) -> int:
    """Insert a grade for every graded customer of the run's period; return how many.

    Rows go in with a plain multi-row INSERT in batches: Django's bulk_create spends most of
    its time preparing each field of each object, which is a third of the whole job here.
    """
    period = scoring.parse_period(run.period)
    overrides = overrides or {}
    breakdown_field = Grade._meta.get_field("breakdown")
    overridden_at_field = Grade._meta.get_field("overridden_at")
    placeholders = "(" + ", ".join(["%s"] * len(GRADE_COLUMNS)) + ")"
    table = connection.ops.quote_name(Grade._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in GRADE_COLUMNS)
    batch: list[tuple] = []
    count = 0
    # The previous tier is the preceding published period's grade, not the customer's tier
    # now: the two differ when this period is older than the latest published one.
    previous_tiers = preceding_tiers(run.period)

    def flush(cursor) -> None:
        values = ", ".join([placeholders] * len(batch))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {values}",
            [value for row in batch for value in row],
        )

    with connection.cursor() as cursor:
        for row in customer_rows(period, spec, customers):
            result = scoring.score_customer(row.raws, spec)
            tier = result.tier
            extra = overrides.get(row.customer_id)
            if extra:
                tier = extra["tier"]
            previous = previous_tiers.get(row.customer_id, "")
            batch.append(
                (
                    run.pk,
                    row.customer_id,
                    result.score,
                    result.tier,
                    tier,
                    previous,
                    movement_between(previous, tier),
                    result.incomplete,
                    breakdown_field.get_db_prep_save(result.breakdown(), connection),
                    extra["override_reason"] if extra else "",
                    extra["overridden_by_id"] if extra else None,
                    overridden_at_field.get_db_prep_save(extra["overridden_at"], connection)
                    if extra
                    else None,
                )
            )
            if len(batch) >= INSERT_BATCH:
                flush(cursor)
                count += len(batch)
                batch = []
        if batch:
            flush(cursor)
            count += len(batch)
    return count
