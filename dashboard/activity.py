"""Visit and feedback figures for the reports, read from monthly summaries where they can be.

The visit plan execution, feedback quota and scorecard reports cover a year of visits for up
to every manager: counting 300,000 planned visits joined to their records on each request
takes half a second. The summaries job (dashboard.summaries) also keeps two derived tables:

- `MonthlyVisits`: per month × the customer's department and primary manager × the manager
  who held the plan or wrote the record: visits due, completed, completed by the due date, and
  the satisfaction given on visit records (sum and number);
- `MonthlyFeedback`: information feedback per local month × author × the customer's tier.

A report's period is split into whole past months, answered from the summaries, and the rest
(a month the period starts or ends inside, and the current month, whose figures move all day),
counted from the visits and feedback themselves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, DateField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Customer
from visits.models import InformationFeedback, PlannedVisit, VisitRecord, VisitStatus

from .models import MonthlyFeedback, MonthlyVisits
from .sales import month_end, month_start

BATCH = 2000
# Plans that count as due: a cancelled or moved plan is replaced or dropped, not missed.
COUNTED = (VisitStatus.COMPLETED, VisitStatus.PLANNED)


# --- rebuilding ----------------------------------------------------------------------------


def rebuild_visit_summary() -> int:
    """Replace MonthlyVisits by one computed from the plans and records; return its rows.

    Call inside the summaries job's transaction (dashboard.summaries.refresh_summaries).
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
    sql = f"""
        INSERT INTO {MonthlyVisits._meta.db_table}
            (month, department_id, manager_id, actor_id,
             due, done, on_time, satisfaction_sum, satisfaction_count)
        SELECT month, department_id, manager_id, actor_id,
               SUM(due), SUM(done), SUM(on_time), SUM(satisfaction_sum), SUM(satisfaction_count)
        FROM (
            SELECT {due_month} AS month, c.department_id, c.primary_manager_id AS manager_id,
                   p.assigned_to_id AS actor_id, COUNT(*) AS due,
                   SUM(CASE WHEN {completed} THEN 1 ELSE 0 END) AS done,
                   SUM(CASE WHEN {completed} AND r.date <= p.due_date THEN 1 ELSE 0 END)
                       AS on_time,
                   0 AS satisfaction_sum, 0 AS satisfaction_count
            FROM {plans} p
            JOIN {customers} c ON c.id = p.customer_id
            LEFT JOIN {records} r ON r.id = p.completed_by_record_id
            WHERE p.status IN (%s, %s)
            GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {record_month}, c.department_id, c.primary_manager_id, r.recorded_by_id,
                   0, 0, 0, SUM(r.satisfaction), COUNT(*)
            FROM {records} r
            JOIN {customers} c ON c.id = r.customer_id
            WHERE r.satisfaction IS NOT NULL
            GROUP BY 1, 2, 3, 4
        ) counted
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608 - table names and expressions are ours; values are parameters
    MonthlyVisits.objects.all().delete()  # a derived table, rebuilt below
    with connection.cursor() as cursor:
        cursor.execute(sql, [VisitStatus.COMPLETED, VisitStatus.COMPLETED, *COUNTED])
    return MonthlyVisits.objects.count()


def rebuild_feedback_summary() -> int:
    """Replace MonthlyFeedback by one counted from the feedback; return its rows."""
    month = TruncMonth(
        "submitted_at", tzinfo=timezone.get_current_timezone(), output_field=DateField()
    )
    rows = (
        InformationFeedback.objects.annotate(month=month)
        .values("month", "submitted_by", "customer_tier")
        .annotate(n=Count("pk"))
        .order_by()
    )
    MonthlyFeedback.objects.all().delete()  # a derived table, rebuilt below
    MonthlyFeedback.objects.bulk_create(
        (
            MonthlyFeedback(
                month=row["month"],
                manager_id=row["submitted_by"],
                tier=row["customer_tier"] or "",
                count=row["n"],
            )
            for row in rows.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )
    return MonthlyFeedback.objects.count()


# --- splitting a period ----------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A period as whole past months (first and last month, or None) and the days left over."""

    first_month: date | None
    last_month: date | None
    live: list[tuple[date, date]]


def split_period(start: date, end: date, today: date) -> Split:
    """Split [start, end] into whole months before today's month and the remaining ranges."""
    first_whole = start if start.day == 1 else month_end(start) + timedelta(days=1)
    limit = min(end, month_start(today) - timedelta(days=1))
    last_whole_end = limit if limit == month_end(limit) else month_start(limit) - timedelta(1)
    if first_whole > last_whole_end:
        return Split(None, None, [(start, end)] if start <= end else [])
    live = []
    if start < first_whole:
        live.append((start, first_whole - timedelta(days=1)))
    if last_whole_end < end:
        live.append((last_whole_end + timedelta(days=1), end))
    return Split(first_whole, month_start(last_whole_end), live)


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
        split_period(f.start, f.end, f.today)
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
        for row in live[0].union(*live[1:], all=True):
            add(row.pop("actor"), **row)
    return dict(counts)


def _live_plans(f, first: date, last: date, actors) -> QuerySet:
    qs = f.scope(PlannedVisit.objects.all()).filter(
        due_date__gte=first, due_date__lte=last, status__in=COUNTED
    )
    if actors is not None:
        qs = qs.filter(assigned_to__in=actors)
    return (
        qs.annotate(actor=F("assigned_to"))
        .values("actor")
        .annotate(
            due=Count("pk"),
            done=Count("pk", filter=Q(status=VisitStatus.COMPLETED)),
            on_time=Count(
                "pk",
                filter=Q(
                    status=VisitStatus.COMPLETED,
                    completed_by_record__date__lte=F("due_date"),
                ),
            ),
            satisfaction_sum=Value(0),
            satisfaction_count=Value(0),
        )
        .order_by()
    )


def _live_satisfaction(f, first: date, last: date, actors) -> QuerySet:
    qs = f.scope(VisitRecord.objects.all()).filter(
        date__gte=first, date__lte=last, satisfaction__isnull=False
    )
    if actors is not None:
        qs = qs.filter(recorded_by__in=actors)
    return (
        qs.annotate(actor=F("recorded_by"))
        .values("actor")
        .annotate(
            due=Value(0),
            done=Value(0),
            on_time=Value(0),
            satisfaction_sum=Sum("satisfaction"),
            satisfaction_count=Count("pk"),
        )
        .order_by()
    )


def feedback_counts(f, manager_ids) -> dict:
    """{(manager id, year, month): {tier: count}} of information feedback, by local month,
    from the first day of the period's first month to its end."""
    counts: dict = defaultdict(dict)

    def add(manager_id, year, month, tier, n):
        cell = counts[(manager_id, year, month)]
        cell[tier or ""] = cell.get(tier or "", 0) + n

    split = split_period(month_start(f.start), f.end, f.today)
    if split.first_month is not None:
        for row in (
            MonthlyFeedback.objects.filter(
                manager__in=manager_ids,
                month__gte=split.first_month,
                month__lte=split.last_month,
            )
            .values_list("manager", "month", "tier", "count")
            .iterator(chunk_size=BATCH)
        ):
            manager_id, month, tier, n = row
            add(manager_id, month.year, month.month, tier, n)
    for first, last in split.live:
        qs = InformationFeedback.objects.filter(
            submitted_by__in=manager_ids,
            submitted_at__gte=f.aware(first),
            submitted_at__lt=f.aware(last + timedelta(days=1)),
        ).values_list("submitted_by", "submitted_at", "customer_tier")
        # Months are taken in local time; grouping in Python keeps it portable.
        for manager_id, moment, tier in qs.iterator(chunk_size=BATCH):
            local = timezone.localtime(moment)
            add(manager_id, local.year, local.month, tier, 1)
    return counts
