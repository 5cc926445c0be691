"""Visit and feedback figures for the reports, read from monthly summaries where they can be.

The visit plan execution, feedback quota and scorecard reports cover a year of visits for up
to every manager: counting 300,000 planned visits joined to their records on each request
takes half a second. The summaries job (dashboard.summaries) also keeps two derived tables:

- `MonthlyVisits`: per month × the customer's department and the manager responsible on the
  fact's date (dashboard.history) × the manager the plan counts for or who wrote the record:
  visits due, completed, completed by the due date, and the satisfaction given on visit records
  (sum and number);
- `MonthlyFeedback`: information feedback per local month × author, by the customer's tier.

A report's period is split into whole months, answered from the summaries (the current month
too when they were rebuilt today: a few minutes old, like the sales), and the rest (a month the
period starts or ends inside; the current month when the summaries are older), counted from
the visits and feedback themselves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case, Count, DateField, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Customer
from visits.models import InformationFeedback, PlannedVisit, VisitRecord, VisitStatus

from . import history
from .models import MonthlyFeedback, MonthlyVisits
from .sales import month_end, month_start

BATCH = 2000
# Plans that count as due: a cancelled or moved plan is replaced or dropped, not missed.
COUNTED = (VisitStatus.COMPLETED, VisitStatus.PLANNED)
# MonthlyFeedback's column for each tier ('' for ungraded customers).
TIER_COLUMNS = {"A": "tier_a", "B": "tier_b", "C": "tier_c", "D": "tier_d", "": "ungraded"}


# --- rebuilding ----------------------------------------------------------------------------


VISIT_COLUMNS = [
    "month",
    "department_id",
    "manager_id",
    "actor_id",
    "due",
    "done",
    "on_time",
    "satisfaction_sum",
    "satisfaction_count",
]
FEEDBACK_COLUMNS = ["month", "manager_id", *TIER_COLUMNS.values()]


def visit_summary_rows(today: date) -> list[tuple]:
    """MonthlyVisits' rows (VISIT_COLUMNS) computed from the plans and records.

    Only what happened by `today` (the day of the rebuild) counts: plans due and visits made.
    Read before the summaries job opens its write transaction (dashboard.summaries).
    """
    if connection.vendor == "postgresql":
        due_month, record_month = (
            "date_trunc('month', p.due_date)::date",
            "date_trunc('month', r.date)::date",
        )
    else:  # dates are stored as 'YYYY-MM-DD' text
        due_month, record_month = "substr(p.due_date, 1, 8) || '01'", "substr(r.date, 1, 8) || '01'"
    plans, records, customers = (
        PlannedVisit._meta.db_table,
        VisitRecord._meta.db_table,
        Customer._meta.db_table,
    )
    completed = "p.status = %s"
    # The manager responsible on the due date (plans) or on the visit's date (records), from
    # the assignment history (dashboard.history); a plan counts for that manager too (plans
    # are made for the primary manager; one due before a handover stays with the manager who
    # had it then, though the handover gave the open plan to the successor). A record counts
    # for its author, whoever was responsible.
    plan_manager, plan_params = history.responsible_join(
        "p.due_date", customer="p.customer_id", alias="m"
    )
    record_manager, record_params = history.responsible_join(
        "r.date", customer="r.customer_id", alias="m"
    )
    sql = f"""
        SELECT month, department_id, manager_id, actor_id,
               SUM(due), SUM(done), SUM(on_time), SUM(satisfaction_sum), SUM(satisfaction_count)
        FROM (
            SELECT {due_month} AS month, c.department_id, m.manager_id AS manager_id,
                   COALESCE(m.manager_id, p.assigned_to_id) AS actor_id, COUNT(*) AS due,
                   SUM(CASE WHEN {completed} THEN 1 ELSE 0 END) AS done,
                   SUM(CASE WHEN {completed} AND r.date <= p.due_date THEN 1 ELSE 0 END)
                       AS on_time,
                   0 AS satisfaction_sum, 0 AS satisfaction_count
            FROM {plans} p
            JOIN {customers} c ON c.id = p.customer_id
            {plan_manager}
            LEFT JOIN {records} r ON r.id = p.completed_by_record_id
            WHERE p.status IN (%s, %s) AND p.due_date <= %s
            GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {record_month}, c.department_id, m.manager_id, r.recorded_by_id,
                   0, 0, 0, SUM(r.satisfaction), COUNT(*)
            FROM {records} r
            JOIN {customers} c ON c.id = r.customer_id
            {record_manager}
            WHERE r.satisfaction IS NOT NULL AND r.date <= %s
            GROUP BY 1, 2, 3, 4
        ) counted
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608 - table names and expressions are ours; values are parameters
    params = [
        VisitStatus.COMPLETED,
        VisitStatus.COMPLETED,
        *plan_params,
        *COUNTED,
        today,
        *record_params,
        today,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def feedback_summary_rows() -> list[tuple]:
    """MonthlyFeedback's rows (FEEDBACK_COLUMNS) counted from the feedback."""
    month = TruncMonth(
        "submitted_at", tzinfo=timezone.get_current_timezone(), output_field=DateField()
    )
    return list(
        InformationFeedback.objects.annotate(month=month)
        .values("month", "submitted_by")
        .annotate(
            **{
                column: Count("pk", filter=Q(customer_tier=tier))
                for tier, column in TIER_COLUMNS.items()
            }
        )
        .order_by()
        .values_list("month", "submitted_by", *TIER_COLUMNS.values())
    )


# --- splitting a period ----------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A period as whole past months (first and last month, or None) and the days left over."""

    first_month: date | None
    last_month: date | None
    live: list[tuple[date, date]]


def split_period(start: date, end: date, today: date, summarised_on: date | None) -> Split:
    """Split [start, end] into whole months the summaries answer and the remaining ranges.

    A month before today's answers from the summaries when the period covers all of it;
    today's month does when the period covers it up to today and the summaries were rebuilt
    today (they count visits due up to the day of the rebuild). Months after today's have
    nothing due and no records yet: the little they hold is counted live.
    """
    current = month_start(today)
    first_whole = start if start.day == 1 else month_end(start) + timedelta(days=1)
    if summarised_on == today and start <= current and end >= today:
        last_whole = current
    else:
        limit = min(end, current - timedelta(days=1))
        last_whole = month_start(limit) if limit == month_end(limit) else add_months(limit, -1)
    if first_whole > last_whole:
        return Split(None, None, [(start, end)] if start <= end else [])
    live = []
    if start < first_whole:
        live.append((start, first_whole - timedelta(days=1)))
    following = month_end(last_whole) + timedelta(days=1)
    if following <= end:
        live.append((following, end))
    return Split(first_whole, last_whole, live)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` away from `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- reading -------------------------------------------------------------------------------


def empty_visit_counts() -> dict:
    return {"due": 0, "done": 0, "on_time": 0, "satisfaction_sum": 0, "satisfaction_count": 0}


def visit_counts(f, *, actors=None) -> dict[int, dict]:
    """Per account manager: visits due in the report's period up to today, completed, completed
    by the due date, and the satisfaction given on the visit records of the period.

    `f` is a dashboard.reports.ReportFilters. A manager's own book (primary, assistant or chief
    customers) is not in the summary's terms and is always counted live.
    """
    counts: dict[int, dict] = defaultdict(empty_visit_counts)

    def add(actor, **values):
        for key, value in values.items():
            counts[actor][key] += value or 0

    scope = f.sales_scope()
    split = (
        split_period(f.start, f.end, f.today, f.summarised_on)
        if scope is not None
        else Split(None, None, [(f.start, f.end)])
    )
    if split.first_month is not None:
        qs = scope.narrow(MonthlyVisits.objects.all()).filter(
            month__gte=split.first_month, month__lte=split.last_month
        )
        if actors is not None:
            qs = qs.filter(actor__in=actors)
        for row in (
            qs.values("actor")
            .annotate(
                due=Sum("due"),
                done=Sum("done"),
                on_time=Sum("on_time"),
                satisfaction_sum=Sum("satisfaction_sum"),
                satisfaction_count=Sum("satisfaction_count"),
            )
            .order_by()
        ):
            actor = row.pop("actor")
            add(actor, **row)
    live = [
        part
        for first, last in split.live
        for part in (
            _live_plans(f, first, min(last, f.today), actors),
            _live_satisfaction(f, first, last, actors),
        )
    ]
    if live:
        # One query for every range left over (a page's query count stays fixed).
        sql = " UNION ALL ".join(
            f"SELECT * FROM ({part_sql}) u{i}" for i, (part_sql, _params) in enumerate(live)
        )
        params = [param for _sql, part_params in live for param in part_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for actor, *values in cursor.fetchall():
                add(actor, **dict(zip(VISIT_COUNT_KEYS, values, strict=True)))
    return dict(counts)


VISIT_COUNT_KEYS = ("due", "done", "on_time", "satisfaction_sum", "satisfaction_count")


def _in(column: str, ids) -> tuple[str, list]:
    if ids is None:
        return "", []
    ids = list(ids)
    return f"AND {column} IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", ids


def _live_plans(f, first: date, last: date, actors) -> tuple[str, list]:
    """Plans due in [first, last] per the manager responsible on the due date (the plan's
    holder for a customer nobody was responsible for): SQL of (actor, VISIT_COUNT_KEYS)."""
    plans = (
        f.fact_scope(PlannedVisit.objects.all())
        .filter(due_date__gte=first, due_date__lte=last, status__in=COUNTED)
        .annotate(
            done=Case(
                When(status=VisitStatus.COMPLETED, then=1), default=0, output_field=IntegerField()
            ),
            on_time=Case(
                When(
                    status=VisitStatus.COMPLETED,
                    completed_by_record__date__lte=F("due_date"),
                    then=1,
                ),
                default=0,
                output_field=IntegerField(),
            ),
        )
        .values("customer_id", "due_date", "assigned_to_id", "done", "on_time")
        .order_by()
    )
    inner, inner_params = plans.query.sql_with_params()
    responsible, params = history.responsible_join(
        "q.due_date",
        customer="q.customer_id",
        customers=(f"SELECT customer_id FROM ({inner}) only_these", inner_params),
        alias="m",
    )
    actor = "COALESCE(m.manager_id, q.assigned_to_id)"
    only, only_params = _in(actor, actors)
    manager, manager_params = _in("m.manager_id", [f.manager_id] if f.manager_id else None)
    sql = f"""
        SELECT {actor}, COUNT(*), SUM(q.done), SUM(q.on_time), 0, 0
        FROM ({inner}) q
        {responsible}
        WHERE 1 = 1 {only} {manager}
        GROUP BY 1
    """  # noqa: S608 - the inner query is the ORM's; values are parameters
    return sql, [*inner_params, *params, *only_params, *manager_params]


def _live_satisfaction(f, first: date, last: date, actors) -> tuple[str, list]:
    """Satisfaction given on the visit records of [first, last] per author, of the customers
    the report's manager (if any) was responsible for on the visit's date (SQL, params)."""
    qs = f.fact_scope(VisitRecord.objects.all()).filter(
        date__gte=first, date__lte=last, satisfaction__isnull=False
    )
    if actors is not None:
        qs = qs.filter(recorded_by__in=actors)
    inner, inner_params = (
        qs.values("customer_id", "date", "recorded_by_id", "satisfaction")
        .order_by()
        .query.sql_with_params()
    )
    responsible, params = history.responsible_join(
        "q.date",
        customer="q.customer_id",
        customers=(f"SELECT customer_id FROM ({inner}) only_these", inner_params),
        alias="m",
    )
    only, only_params = _in("m.manager_id", [f.manager_id] if f.manager_id else None)
    sql = f"""
        SELECT q.recorded_by_id, 0, 0, 0, SUM(q.satisfaction), COUNT(*)
        FROM ({inner}) q
        {responsible}
        WHERE 1 = 1 {only}
        GROUP BY 1
    """  # noqa: S608 - the inner query is the ORM's; values are parameters
    return sql, [*inner_params, *params, *only_params]


def feedback_counts(f, manager_ids) -> dict:
    """{(manager id, year, month): {tier: count}} of information feedback, by local month,
    from the first day of the period's first month to its end."""
    counts: dict = {}
    split = split_period(month_start(f.start), f.end, f.today, f.summarised_on)
    if split.first_month is not None:
        # Read as plain tuples: a year of 600 managers is 7,000 rows, and the ORM's per-value
        # converters would cost more than the query.
        qs = MonthlyFeedback.objects.filter(
            manager__in=manager_ids,
            month__gte=split.first_month,
            month__lte=split.last_month,
        ).values_list("manager", "month", *TIER_COLUMNS.values())
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for manager_id, month, *tiers in cursor.fetchall():
                month = str(month)  # a date on PostgreSQL, 'YYYY-MM-DD' on SQLite
                counts[(manager_id, int(month[:4]), int(month[5:7]))] = {
                    tier: n for tier, n in zip(TIER_COLUMNS, tiers, strict=True) if n
                }
    # The rest month by month: each piece lies inside one local month, counted in SQL.
    pieces = [
        InformationFeedback.objects.filter(
            submitted_by__in=manager_ids,
            submitted_at__gte=f.aware(max(first, month)),
            submitted_at__lt=f.aware(min(last, month_end(month)) + timedelta(days=1)),
        )
        .values("submitted_by", "customer_tier")
        .annotate(n=Count("pk"), year=Value(month.year), month=Value(month.month))
        .order_by()
        for first, last in split.live
        for month in months_in(first, last)
    ]
    if pieces:
        for row in pieces[0].union(*pieces[1:], all=True):
            cell = counts.setdefault((row["submitted_by"], row["year"], row["month"]), {})
            tier = row["customer_tier"] or ""
            cell[tier] = cell.get(tier, 0) + row["n"]
    return counts


def months_in(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months
