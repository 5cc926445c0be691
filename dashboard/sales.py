"""Sales figures for the reports and home pages, read from the monthly summary (MonthlySales).

Summing two million transactions joined to their customers takes seconds; the summary holds one
row per month × department × responsible manager × tier (a few thousand rows) and is rebuilt as a
whole by the summaries job (dashboard.summaries): every few minutes by beat, and after a grading
run is published. Pages say how old the figures are.

A period that starts or ends inside a month is answered from the summary when that month has no
transaction outside the period (the usual case: a period ending today); otherwise that one month
is summed from the transactions for the period's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from accounts.models import Customer, Transaction

from . import history
from .models import MonthlySales

ZERO = Decimal("0")
# Summary fields and the transaction lookups they stand for.
GROUPS = {
    "tier": "customer__tier",
    "manager": "customer__primary_manager",
    "department": "customer__department",
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


SUMMARY_COLUMNS = [
    "month",
    "department_id",
    "manager_id",
    "tier",
    "amount",
    "profit",
    "transactions",
]


def sales_summary_rows() -> list[tuple]:
    """The sales summary's rows computed from the transactions (SUMMARY_COLUMNS, in order).

    Read before the summaries job opens its write transaction (dashboard.summaries).
    """
    if connection.vendor == "postgresql":
        month = "date_trunc('month', t.date)::date"
    else:  # dates are stored as 'YYYY-MM-DD' text: no per-row function call into Python
        month = "substr(t.date, 1, 8) || '01'"
    # Each transaction counts for the manager responsible on its date (dashboard.history).
    responsible, params = history.responsible_join("t.date")
    sql = f"""
        SELECT {month}, c.department_id, p.manager_id, c.tier,
               SUM(t.amount), SUM(t.profit), COUNT(*)
        FROM {Transaction._meta.db_table} t
        JOIN {Customer._meta.db_table} c ON c.id = t.customer_id
        {responsible}
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608 - table names and expressions are ours, no user input
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Scope:
    """Which sales: all, of some departments, of some managers while responsible (None = any)."""

    departments: list[int] | None = None
    managers: list[int] | None = None

    def summary(self) -> QuerySet:
        return self.narrow(MonthlySales.objects.all())

    def narrow(self, qs: QuerySet) -> QuerySet:
        """Narrow a summary keyed by department and (primary) manager to the scope."""
        if self.departments is not None:
            qs = qs.filter(department__in=self.departments)
        if self.managers is not None:
            qs = qs.filter(manager__in=self.managers)
        return qs


def sales_by(
    scope: Scope, group: str, buckets: list[tuple[str, date, date]]
) -> dict[tuple[str, object], list]:
    """Return {(bucket label, group value): [amount, profit, count]}.

    `buckets` are (label, first day, last day): quarters or months clipped to a period, or two
    periods side by side. `group` is one of GROUPS ("tier", "manager", "department").
    """
    result: dict[tuple[str, object], list] = {}

    def add(label, key, amount, profit, count):
        if not count:  # the group had sales in another bucket only
            return
        cell = result.setdefault((label, key if key is not None else ""), [ZERO, ZERO, 0])
        cell[0] += amount or ZERO
        cell[1] += profit or ZERO
        cell[2] += count or 0

    aggregates, live_ranges = {}, []
    inexact_by_bucket = _inexact_edge_months([(first, last) for _label, first, last in buckets])
    for i, (label, first, last) in enumerate(buckets):
        inexact = inexact_by_bucket[i]
        months = Q(month__gte=month_start(first), month__lte=month_start(last))
        if inexact:
            months &= ~Q(month__in=inexact)
        aggregates[f"a{i}"] = Sum("amount", filter=months)
        aggregates[f"p{i}"] = Sum("profit", filter=months)
        aggregates[f"n{i}"] = Sum("transactions", filter=months)
        live_ranges += [(label, max(first, m), min(last, month_end(m))) for m in inexact]
    rows = (
        scope.summary()
        .filter(
            month__gte=month_start(min(b[1] for b in buckets)),
            month__lte=month_start(max(b[2] for b in buckets)),
        )
        .values(group)
        .annotate(**aggregates)
        .order_by()
    )
    for row in rows:
        for i, (label, _first, _last) in enumerate(buckets):
            add(label, row[group], row[f"a{i}"], row[f"p{i}"], row[f"n{i}"])
    for label, first, last in live_ranges:
        summed = summed_transactions(
            group, [(first, last)], departments=scope.departments, managers=scope.managers
        )
        for key, [(amount, profit, count)] in summed.items():
            add(label, key, amount, profit, count)
    return result


# The summed transactions' grouping expressions (c: the customer, p: the responsible manager).
GROUP_SQL = {"tier": "c.tier", "manager": "p.manager_id", "department": "c.department_id"}


def summed_transactions(
    group: str,
    ranges: list[tuple[date, date]],
    *,
    departments: list[int] | None = None,
    managers: list[int] | None = None,
    customers: tuple[str, list] | None = None,
) -> dict[object, list[tuple]]:
    """Sum transactions straight from the table, in one query: {group value: [(amount,
    profit, count) per range]}, with the summary's meaning of each dimension (the manager
    responsible on the transaction's date, dashboard.history; the customer's department and
    tier). `customers` (a SELECT of ids and its parameters) narrows the customers."""
    columns, params = [], []
    for first, last in ranges:
        inside = "t.date >= %s AND t.date <= %s"
        columns += [
            f"SUM(CASE WHEN {inside} THEN t.amount END)",
            f"SUM(CASE WHEN {inside} THEN t.profit END)",
            f"SUM(CASE WHEN {inside} THEN 1 ELSE 0 END)",
        ]
        params += [first, last] * 3
    joins, where = "", ["t.date >= %s", "t.date <= %s"]
    where_params: list = [min(r[0] for r in ranges), max(r[1] for r in ranges)]
    if group == "manager" or managers is not None:
        joins, join_params = history.responsible_join("t.date", customers=customers)
        params += join_params
    if departments is not None:
        where.append(f"c.department_id IN ({', '.join(['%s'] * len(departments)) or 'NULL'})")
        where_params += departments
    if managers is not None:
        where.append(f"p.manager_id IN ({', '.join(['%s'] * len(managers)) or 'NULL'})")
        where_params += managers
    if customers is not None:
        where.append(f"t.customer_id IN ({customers[0]})")
        where_params += list(customers[1])
    sql = f"""
        SELECT {GROUP_SQL[group]}, {", ".join(columns)}
        FROM {Transaction._meta.db_table} t
        JOIN {Customer._meta.db_table} c ON c.id = t.customer_id
        {joins}
        WHERE {" AND ".join(where)}
        GROUP BY 1
    """  # noqa: S608 - table names and expressions are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params + where_params)
        rows = cursor.fetchall()
    return {
        key if key is not None else "": [
            (
                _decimal(values[3 * i]),
                _decimal(values[3 * i + 1]),
                int(values[3 * i + 2] or 0),
            )
            for i in range(len(ranges))
        ]
        for key, *values in rows
    }


def _decimal(value) -> Decimal:
    """A sum as Decimal (SQLite returns floats or ints for SUM over numeric text)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _inexact_edge_months(periods: list[tuple[date, date]]) -> list[set[date]]:
    """For each (first, last), the edge months whose summary row counts days outside it.

    A month wholly inside never does; the first (last) month does only when one of its
    transactions falls before `first` (after `last`). All the probes go in one query of
    EXISTS clauses, each an indexed range probe on the transaction date.
    """
    probes: list[tuple[int, date, QuerySet]] = []
    for i, (first, last) in enumerate(periods):
        if first > month_start(first):
            outside = Transaction.objects.filter(date__gte=month_start(first), date__lt=first)
            probes.append((i, month_start(first), outside))
        if last < month_end(last):
            outside = Transaction.objects.filter(date__gt=last, date__lte=month_end(last))
            probes.append((i, month_start(last), outside))
    inexact: list[set[date]] = [set() for _ in periods]
    if not probes:
        return inexact
    clauses, params = [], []
    for _i, _month, outside in probes:
        sql, probe_params = outside.values("pk")[:1].query.sql_with_params()
        clauses.append(f"EXISTS ({sql})")
        params.extend(probe_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(clauses), params)
        found = cursor.fetchone()
    for (i, month, _outside), outside_exists in zip(probes, found, strict=True):
        if outside_exists:
            inexact[i].add(month)
    return inexact


def total(scope: Scope, start: date, end: date) -> tuple[Decimal, Decimal]:
    """Revenue and profit of the period for the scope."""
    cells = sales_by(scope, "tier", [("", start, end)])
    amount = sum((cell[0] for cell in cells.values()), ZERO)
    profit = sum((cell[1] for cell in cells.values()), ZERO)
    return amount, profit
