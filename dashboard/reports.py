"""Report figures: set-based selectors (aggregates in SQL) and the pure arithmetic around them.

Each report function takes a ReportFilters (the user's scope and the chosen period, department
and manager) and returns a Report: a table of plain values (also what the Excel export writes)
plus a chart drawn from the same figures. A report runs a fixed number of queries whatever the
number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.apps import apps
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.models import Customer, CustomerStatus, Department, Transaction, User
from contracts.models import Contract, ContractStatus
from tiers.models import Grade, GradingRun, Movement, RunStatus
from visits import rules as visit_rules
from visits.models import PlannedVisit

from . import activity, charts, history, sales, services
from .models import RiskSignal

TIERS = ["A", "B", "C", "D"]
TIER_KEYS = TIERS + [""]
MONEY = "money"
INT = "int"
PERCENT = "percent"
TEXT = "text"
DECIMAL = "decimal"
ZERO = Decimal("0")
# Early warning: purchases of the last 4 weeks against the 4 weeks before.
RISK_WINDOW_DAYS = 28
RISK_RISE = Decimal("0.30")
RISK_FALL = Decimal("-0.20")
# The full early-warning list shows at most this many customers, the strongest signals first.
RISK_LIST_MAX = 300


def tier_label(tier: str) -> str:
    return tier or _("Ungraded")


@dataclass
class ReportFilters:
    """Who asks and for what: the period (inclusive dates), a department and a manager."""

    user: User
    start: date
    end: date
    department_id: int | None = None
    manager_id: int | None = None
    today: date = field(default_factory=timezone.localdate)

    def customers(self) -> QuerySet:
        """Return the customers the report covers: the user's scope, narrowed by the filters."""
        qs = Customer.objects.visible_to(self.user)
        if not permissions.sees_everything(self.user) and not permissions.is_department_head(
            self.user
        ):
            # A manager's reports cover their own customers, not the department's pool.
            qs = qs.filter(
                Q(primary_manager=self.user)
                | Q(assistant_manager=self.user)
                | Q(chief_manager=self.user)
            )
        if self.department_id:
            qs = qs.filter(department_id=self.department_id)
        if self.manager_id:
            qs = qs.filter(primary_manager_id=self.manager_id)
        return qs

    def customer_ids(self):
        return self.customers().order_by().values("pk")  # a set: no sort inside IN (...)

    @property
    def unrestricted(self) -> bool:
        """True when the report covers every customer (no need to join the scope)."""
        return (
            permissions.sees_everything(self.user)
            and not self.department_id
            and not self.manager_id
        )

    def scope(self, qs: QuerySet, path: str = "customer") -> QuerySet:
        """Narrow rows that hang off a customer to the report's customers."""
        if self.unrestricted:
            return qs
        return qs.filter(**{f"{path}__in": self.customer_ids()})

    def fact_scope(self, qs: QuerySet, path: str = "customer") -> QuerySet:
        """Narrow facts counted per responsible manager (dashboard.history) to the customers
        whose facts the user may count: the customers they see (the manager filter applies to
        the responsible manager, not to today's), and for an account manager every customer
        they were ever primary manager of (their own past figures stay theirs) besides their
        book of today."""
        if permissions.sees_everything(self.user) or permissions.is_department_head(self.user):
            customers = Customer.objects.visible_to(self.user)
            if not self.department_id and permissions.sees_everything(self.user):
                return qs
        else:
            sql, params = history.ever_managed_by([self.user.pk])
            book = Customer.objects.filter(
                Q(primary_manager=self.user)
                | Q(assistant_manager=self.user)
                | Q(chief_manager=self.user)
            )
            customers = Customer.objects.filter(
                Q(pk__in=book.values("pk")) | Q(pk__in=RawSQL(sql, params))
            )
        if self.department_id:
            customers = customers.filter(department_id=self.department_id)
        return qs.filter(**{f"{path}__in": customers.order_by().values("pk")})

    def managers(self) -> QuerySet:
        """Return the account managers the per-manager reports list."""
        qs = (
            User.objects.filter(is_active=True, groups__name=permissions.Role.ACCOUNT_MANAGER)
            .select_related("department")
            .only("username", "first_name", "last_name", "department__name")
        )
        if permissions.sees_everything(self.user):
            pass
        elif permissions.is_department_head(self.user):
            qs = qs.filter(department__in=permissions.headed_department_ids(self.user))
        else:
            qs = qs.filter(pk=self.user.pk)
        if self.department_id:
            qs = qs.filter(department_id=self.department_id)
        if self.manager_id:
            qs = qs.filter(pk=self.manager_id)
        return qs.order_by("department__name", "username").distinct()

    def sales_scope(self) -> sales.Scope | None:
        """The report's customers as the sales summary can select them, or None when it
        cannot: a manager's own book (primary, assistant or chief), summed from transactions.

        A head's scope is their departments' customers.
        """
        departments = managers = None
        if not permissions.sees_everything(self.user):
            if not permissions.is_department_head(self.user):
                return None
            departments = list(permissions.headed_department_ids(self.user))
        if self.department_id:
            departments = [
                d for d in (departments or [self.department_id]) if d == self.department_id
            ]
        if self.manager_id:
            managers = [self.manager_id]
        return sales.Scope(departments=departments, managers=managers)

    @cached_property
    def summaries_refreshed_at(self):
        """When the summaries (dashboard.summaries) were last rebuilt (None: never)."""
        return services.summaries_refreshed_at()

    @property
    def summarised_on(self) -> date | None:
        refreshed = self.summaries_refreshed_at
        return timezone.localdate(refreshed) if refreshed else None

    def aware(self, day: date):
        return timezone.make_aware(timezone.datetime(day.year, day.month, day.day))

    @property
    def start_at(self):
        return self.aware(self.start)

    @property
    def end_at(self):
        """The first instant after the period."""
        return self.aware(self.end + timedelta(days=1))


@dataclass
class Report:
    slug: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list]
    chart: str = ""
    totals: list | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)


# --- pure helpers -------------------------------------------------------------------------


def rate(part, whole) -> Decimal | None:
    """Return part ÷ whole in % with one decimal, or None when there is nothing to measure."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def change(current, previous) -> Decimal | None:
    """Return the relative change current/previous − 1 (a fraction), None without a base."""
    if not previous:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous)


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_between(start: date, end: date) -> list[str]:
    quarters, day = [], date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    while day <= end:
        quarters.append(quarter_of(day))
        month = day.month + 3
        day = date(day.year + (month > 12), (month - 1) % 12 + 1, 1)
    return quarters


def quarter_bounds(start: date, end: date) -> list[tuple[str, date, date]]:
    """Return (label, first day, last day) of each quarter the period touches, clipped to it."""
    bounds = []
    for label in quarters_between(start, end):
        year, q = int(label[:4]), int(label[-1])
        first = date(year, 3 * q - 2, 1)
        following = date(year + (q == 4), (3 * q) % 12 + 1, 1)
        bounds.append((label, max(first, start), min(following - timedelta(days=1), end)))
    return bounds


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    months, (year, month) = [], (start.year, start.month)
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def tier_dropped(previous: str, tier: str) -> bool:
    return bool(previous) and bool(tier) and tier > previous


def risk_reasons(
    *,
    last: Decimal,
    previous: Decimal,
    dropped_from: str = "",
    dropped_to: str = "",
    overdue_and_complaint: bool = False,
) -> list[str]:
    """Return why a customer is at risk (empty when it is not)."""
    reasons = []
    moved = change(last, previous)
    if moved is not None and moved > RISK_RISE:
        reasons.append(
            _("Purchases up %(pct)s%% on the previous 4 weeks") % {"pct": f"{moved * 100:.0f}"}
        )
    elif moved is not None and moved < RISK_FALL:
        reasons.append(
            _("Purchases down %(pct)s%% on the previous 4 weeks") % {"pct": f"{-moved * 100:.0f}"}
        )
    if tier_dropped(dropped_from, dropped_to):
        reasons.append(
            _("Tier dropped from %(old)s to %(new)s") % {"old": dropped_from, "new": dropped_to}
        )
    if overdue_and_complaint:
        reasons.append(_("Overdue visit and an open complaint"))
    return reasons


# --- complaints (optional until that app has its model) ------------------------------------


def complaint_model():
    """Return the Complaint model, or None while the complaints app has none."""
    try:
        return apps.get_model("complaints", "Complaint")
    except LookupError:
        return None


def open_complaints(qs: QuerySet) -> QuerySet:
    """Return the complaints not yet resolved (new, acknowledged, in progress, escalated,
    reopened)."""
    return qs.unresolved()


# --- reports ------------------------------------------------------------------------------


def tier_distribution(f: ReportFilters) -> Report:
    """Customers by department and current tier (admitted customers: active and dormant)."""
    # Grouped by the department's id (no join per customer), named afterwards.
    rows_qs = (
        f.customers()
        .filter(status__in=[CustomerStatus.ACTIVE, CustomerStatus.DORMANT])
        .values("department", "tier")
        .annotate(n=Count("pk"))
        .order_by()
    )
    names = dict(Department.objects.values_list("pk", "name"))
    table: dict[str, dict[str, int]] = {}
    for row in rows_qs:
        table.setdefault(names.get(row["department"], ""), {})[row["tier"] or ""] = row["n"]
    departments = sorted(table)
    rows = [
        [name] + [table[name].get(t, 0) for t in TIER_KEYS] + [sum(table[name].values())]
        for name in departments
    ]
    totals = [_("Total")] + [sum(r[i + 1] for r in rows) for i in range(len(TIER_KEYS) + 1)]
    columns = [(_("Department"), TEXT)] + [(tier_label(t), INT) for t in TIER_KEYS]
    columns.append((_("Total"), INT))
    chart = charts.stacked_bar_chart(
        departments,
        [(tier_label(t), [r[i + 1] for r in rows]) for i, t in enumerate(TIER_KEYS)],
        title=_("Customers by department and tier"),
        tier_colours=True,
    )
    return Report("tiers", _("Tier distribution"), columns, rows, chart, totals)


def published_runs() -> QuerySet:
    return GradingRun.objects.filter(status__in=[RunStatus.PUBLISHED, RunStatus.CLOSED]).order_by(
        "-period"
    )


def movement_counts(f: ReportFilters, run_from: GradingRun, run_to: GradingRun) -> dict:
    """Return {(from_tier, to_tier): count}; '' on one side means not graded in that run.

    The earlier run's grades, each joined to its customer's grade in the later run (by key, from
    the (customer, run, tier) index), and the later run's grades of customers the earlier run
    did not grade; one query. Grouping both runs' grades by customer took half again as long.
    """
    table = Grade._meta.db_table
    scope, params, with_scope = "", [], ""
    if not f.unrestricted:
        # The report's customers, listed once for both halves.
        customers_sql, params = f.customer_ids().query.sql_with_params()
        with_scope = f"WITH scope AS MATERIALIZED ({customers_sql})"
        scope = "AND g.customer_id IN (SELECT * FROM scope)"
    sql = f"""
        {with_scope}
        SELECT g.tier, COALESCE(later.tier, ''), COUNT(*)
        FROM {table} g
        LEFT JOIN {table} later ON later.customer_id = g.customer_id AND later.run_id = %s
        WHERE g.run_id = %s {scope}
        GROUP BY 1, 2
        UNION ALL
        SELECT '', g.tier, COUNT(*)
        FROM {table} g
        WHERE g.run_id = %s {scope} AND NOT EXISTS (
            SELECT 1 FROM {table} earlier
            WHERE earlier.customer_id = g.customer_id AND earlier.run_id = %s
        )
        GROUP BY 2
    """  # noqa: S608 - the table and the scope's SQL are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, run_to.pk, run_from.pk, run_to.pk, run_from.pk])
        counts: dict = {}
        for from_tier, to_tier, n in cursor.fetchall():
            key = (from_tier or "", to_tier or "")
            counts[key] = counts.get(key, 0) + n
        return counts


def tier_movement(f: ReportFilters, run_from_id=None, run_to_id=None) -> Report:
    runs = list(published_runs()[:12])
    by_id = {run.pk: run for run in runs}
    run_to = by_id.get(_int(run_to_id)) or (runs[0] if runs else None)
    run_from = by_id.get(_int(run_from_id)) or (runs[1] if len(runs) > 1 else None)
    columns = [(_("From \\ to"), TEXT)] + [(t, INT) for t in TIERS]
    columns += [(_("Not graded"), INT), (_("Total"), INT)]
    extra = {"runs": runs, "run_from": run_from, "run_to": run_to}
    if not run_from or not run_to:
        return Report(
            "movement",
            _("Tier movement"),
            columns,
            [],
            notes=_("Two published runs are needed."),
            extra=extra,
        )
    counts = movement_counts(f, run_from, run_to)
    keys = TIERS + [""]
    matrix = [[counts.get((a, b), 0) for b in keys] for a in keys]
    url = reverse("dashboard:movement_customers")
    links = [
        [
            f"{url}?{urlencode({'run_from': run_from.pk, 'run_to': run_to.pk, 'from': a or '-', 'to': b or '-', **f_params(f)})}"  # noqa: E501
            for b in keys
        ]
        for a in keys
    ]
    labels = [t or _("Not graded") for t in keys]
    rows = [[labels[i]] + matrix[i] + [sum(matrix[i])] for i in range(len(keys))]
    totals = [_("Total")] + [sum(matrix[i][j] for i in range(len(keys))) for j in range(len(keys))]
    totals.append(sum(totals[1:]))
    chart = charts.heat_map(
        labels,
        labels,
        matrix,
        title=_("Tier movement from %(a)s to %(b)s") % {"a": run_from.period, "b": run_to.period},
        links=links,
        row_title=run_from.period,
        col_title=run_to.period,
    )
    extra.update(
        matrix=matrix,
        labels=labels,
        cells=[
            (labels[i], list(zip(matrix[i], links[i], strict=True)), sum(matrix[i]))
            for i in range(len(keys))
        ],
    )
    return Report("movement", _("Tier movement"), columns, rows, chart, totals, extra=extra)


def f_params(f: ReportFilters) -> dict:
    params = {}
    if f.department_id:
        params["department"] = f.department_id
    if f.manager_id:
        params["manager"] = f.manager_id
    return params


def movement_customers(f: ReportFilters, run_from_id, run_to_id, from_tier: str, to_tier: str):
    """Return the customers of one cell of the movement matrix ('-' is "not graded")."""
    run_from = published_runs().filter(pk=_int(run_from_id)).first()
    run_to = published_runs().filter(pk=_int(run_to_id)).first()
    if not run_from or not run_to:
        return None, None, Customer.objects.none()
    qs = f.customers()
    graded_from = Grade.objects.filter(run=run_from)
    graded_to = Grade.objects.filter(run=run_to)
    if from_tier in TIERS:
        qs = qs.filter(pk__in=graded_from.filter(tier=from_tier).values("customer"))
    else:
        qs = qs.exclude(pk__in=graded_from.values("customer"))
    if to_tier in TIERS:
        qs = qs.filter(pk__in=graded_to.filter(tier=to_tier).values("customer"))
    else:
        qs = qs.exclude(pk__in=graded_to.values("customer"))
    if from_tier not in TIERS and to_tier not in TIERS:
        qs = qs.none()
    return run_from, run_to, qs


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def visit_execution(f: ReportFilters) -> Report:
    """Visit plan execution rate per manager: completed ÷ visits due in the period (to today).

    Cancelled and moved plans are not counted (a moved plan is replaced by a new one).
    """
    managers = list(f.managers())
    counts = activity.visit_counts(f, actors=[m.pk for m in managers])
    rows = []
    for manager in managers:
        c = counts.get(manager.pk) or activity.empty_visit_counts()
        rows.append(
            [
                str(manager),
                manager.department.name if manager.department else "",
                c["due"],
                c["done"],
                c["on_time"],
                rate(c["done"], c["due"]),
            ]
        )
    due, done, on_time = (sum(r[i] for r in rows) for i in (2, 3, 4))
    totals = [_("Total"), "", due, done, on_time, rate(done, due)]
    columns = [
        (_("Manager"), TEXT),
        (_("Department"), TEXT),
        (_("Visits due"), INT),
        (_("Completed"), INT),
        (_("Completed by the due date"), INT),
        (_("Execution rate %"), PERCENT),
    ]
    chart = charts.bar_chart(
        [(r[0], r[5] or 0) for r in rows],
        title=_("Visit plan execution rate per manager"),
        value_suffix=" %",
        max_value=100,
    )
    return Report(
        "visits",
        _("Visit plan execution"),
        columns,
        rows,
        chart,
        totals,
        extra=sales_freshness(f),
    )


def feedback_compliance(f: ReportFilters) -> Report:
    """Information feedback per manager and month against the quota (5: 2 A, 2 B, 1 C)."""
    months = months_between(f.start, f.end)[-12:]
    managers = list(f.managers())
    counts = activity.feedback_counts(f, [m.pk for m in managers])
    rows, compliant_cells = [], 0
    for manager in managers:
        cells, ok = [], 0
        for year, month in months:
            result = visit_rules.feedback_compliance(counts.get((manager.pk, year, month), {}))
            ok += result.compliant
            cells.append(f"{result.total}{'' if result.compliant else ' ✗'}")
        compliant_cells += ok
        rows.append([str(manager)] + cells + [ok, rate(ok, len(months))])
    columns = [(_("Manager"), TEXT)] + [(f"{y}-{m:02d}", TEXT) for y, m in months]
    columns += [(_("Months met"), INT), (_("Compliance %"), PERCENT)]
    chart = charts.bar_chart(
        [(r[0], r[-1] or 0) for r in rows],
        title=_("Share of months with the quota met"),
        value_suffix=" %",
        max_value=100,
    )
    return Report(
        "feedback",
        _("Information feedback quota"),
        columns,
        rows,
        chart,
        notes=_(
            "Each month: at least 5 feedback entries, 2 on A, 2 on B and 1 on C customers. "
            "✗ marks a month short of the quota."
        ),
        # Whole months come from the summary for everyone (a manager's feedback is theirs).
        extra={"summarised": True, "sales_as_of": f.summaries_refreshed_at},
    )


def complaint_deadlines(f: ReportFilters) -> Report:
    """Complaints received in the period: response and resolution deadlines met, by tier and
    category."""
    columns = [
        (_("Tier"), TEXT),
        (_("Category"), TEXT),
        (_("Complaints"), INT),
        (_("Responded in time"), INT),
        (_("Response deadline met %"), PERCENT),
        (_("Resolved in time"), INT),
        (_("Resolution deadline met %"), PERCENT),
    ]
    model = complaint_model()
    if model is None:
        return Report(
            "complaints",
            _("Complaint deadlines"),
            columns,
            [],
            notes=_("Complaints are not recorded yet."),
        )
    rows_qs = (
        _complaints_in(f, model)
        .values("customer__tier", "category")
        .annotate(**_complaint_deadline_aggregates())
        .order_by("customer__tier", "category")
    )
    categories = dict(model._meta.get_field("category").flatchoices)
    rows = []
    for row in rows_qs:
        rows.append(
            [
                tier_label(row["customer__tier"] or ""),
                str(categories.get(row["category"], row["category"])),
                row["n"],
                row["responded"],
                rate(row["responded"], row["respondable"]),
                row["resolved"],
                rate(row["resolved"], row["resolvable"]),
            ]
        )
    n, responded, resolved = (sum(r[i] for r in rows) for i in (2, 3, 5))
    respondable = sum(row["respondable"] for row in rows_qs)
    resolvable = sum(row["resolvable"] for row in rows_qs)
    totals = [
        _("Total"),
        "",
        n,
        responded,
        rate(responded, respondable),
        resolved,
        rate(resolved, resolvable),
    ]
    by_tier: dict[str, list[int]] = {}
    for row in rows:
        by_tier.setdefault(row[0], [0, 0, 0])
        by_tier[row[0]][0] += row[2]
        by_tier[row[0]][1] += row[3]
        by_tier[row[0]][2] += row[5]
    names = list(by_tier)
    chart = charts.stacked_bar_chart(
        names,
        [
            (_("Responded in time"), [by_tier[t][1] for t in names]),
            (_("Responded late or not yet"), [by_tier[t][0] - by_tier[t][1] for t in names]),
        ],
        title=_("Complaint response deadlines met by tier"),
    )
    return Report("complaints", _("Complaint deadlines"), columns, rows, chart, totals)


def _complaints_in(f: ReportFilters, model, *, by_manager: bool = False) -> QuerySet:
    """The period's complaints of the report's customers; `by_manager`: of the customers whose
    complaints count per responsible manager (the caller groups them by that manager).

    Filtered on a manager, a report counts the complaints received while that manager was
    responsible for the customer (dashboard.history), not those of today's customers."""
    received = Q(received_at__gte=f.start_at, received_at__lt=f.end_at)
    if not by_manager and not f.manager_id:
        return f.scope(model.objects.all()).filter(received)
    qs = f.fact_scope(model.objects.all()).filter(received)
    if by_manager:
        return qs
    day, day_params = history.local_day("received_at")
    responsible, params = history.responsible_join("q.received_on", customer="q.customer_id")
    sql = f"""
        SELECT q.id FROM (
            SELECT id, customer_id, {day} AS received_on FROM {model._meta.db_table}
            WHERE received_at >= %s AND received_at < %s
        ) q
        {responsible}
        WHERE p.manager_id = %s
    """  # noqa: S608 - table names and expressions are ours; values are parameters
    return qs.filter(pk__in=RawSQL(sql, [*day_params, f.start_at, f.end_at, *params, f.manager_id]))


def _complaint_deadline_conditions() -> dict[str, Q]:
    """Which complaints count as: responded in time, resolvable, resolved in time, and
    respondable. A complaint is measured for a deadline once it met it or the deadline passed:
    one still within its time counts neither way."""
    now = timezone.now()
    return {
        "respondable": Q(acknowledged_at__isnull=False) | Q(response_due_at__lt=now),
        "responded": Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("response_due_at")),
        "resolvable": Q(resolved_at__isnull=False) | Q(resolution_due_at__lt=now),
        "resolved": Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at")),
    }


def _complaint_deadline_aggregates() -> dict:
    """Counts of a complaint queryset: all, responded in time, resolvable, resolved in time."""
    return {
        "n": Count("pk"),
        **{
            name: Count("pk", filter=condition)
            for name, condition in _complaint_deadline_conditions().items()
        },
    }


def _new_customers_by_responsible_manager(f: ReportFilters) -> list[tuple]:
    """(manager id, customers created in the period while responsible for them), one query."""
    created = (
        f.fact_scope(
            Customer.objects.filter(created_at__gte=f.start_at, created_at__lt=f.end_at), "pk"
        )
        .annotate(created_on=TruncDate("created_at"))
        .values("pk", "created_on")
        .order_by()
    )
    inner, inner_params = created.query.sql_with_params()
    responsible, params = history.responsible_join(
        "q.created_on",
        customer="q.pk",
        customers=(f"SELECT pk FROM ({inner}) only_these", inner_params),
    )
    sql = f"SELECT p.manager_id, COUNT(*) FROM ({inner}) q {responsible} GROUP BY 1"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *params])
        return cursor.fetchall()


def _complaints_by_responsible_manager(f: ReportFilters, model) -> dict[int, dict]:
    """The period's complaints per the manager responsible for the customer on the day each
    was received (dashboard.history): mean satisfaction and the deadline counts, one query."""
    conditions = _complaint_deadline_conditions()
    flags = {
        name: Case(When(condition, then=1), default=0, output_field=IntegerField())
        for name, condition in conditions.items()
    }
    complaints = (
        _complaints_in(f, model, by_manager=True)
        .annotate(received_on=TruncDate("received_at"), **flags)
        .values("customer_id", "received_on", "satisfaction", *flags)
        .order_by()
    )
    inner, inner_params = complaints.query.sql_with_params()
    responsible, params = history.responsible_join(
        "q.received_on",
        customer="q.customer_id",
        customers=(f"SELECT customer_id FROM ({inner}) only_these", inner_params),
    )
    sums = ", ".join(f"SUM(q.{name})" for name in flags)
    sql = f"""
        SELECT p.manager_id, AVG(q.satisfaction), COUNT(*), {sums}
        FROM ({inner}) q
        {responsible}
        GROUP BY 1
    """  # noqa: S608 - the inner query is the ORM's; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *params])
        rows = cursor.fetchall()
    return {
        manager: {
            "satisfaction": satisfaction,
            "n": n,
            **dict(zip(flags, (int(v or 0) for v in counts), strict=True)),
        }
        for manager, satisfaction, n, *counts in rows
    }


def contract_pipeline(f: ReportFilters) -> Report:
    """Contracts by status: count and amount (contracts created in the period)."""
    qs = (
        f.scope(Contract.objects.all())
        .filter(created_at__gte=f.start_at, created_at__lt=f.end_at)
        .values("status")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    found = {row["status"]: row for row in qs}
    rows = [
        [str(label), found.get(value, {}).get("n", 0), found.get(value, {}).get("amount") or ZERO]
        for value, label in ContractStatus.choices
    ]
    totals = [_("Total"), sum(r[1] for r in rows), sum((r[2] for r in rows), ZERO)]
    columns = [(_("Status"), TEXT), (_("Contracts"), INT), (_("Amount"), MONEY)]
    chart = charts.bar_chart([(r[0], r[2]) for r in rows], title=_("Contract amount by status (¥)"))
    return Report("contracts", _("Contract pipeline"), columns, rows, chart, totals)


def sales_cells(
    f: ReportFilters, group: str, buckets, manager_ids: list[int] | None = None
) -> dict[tuple[str, object], list]:
    """Sales of the report's customers per (bucket label, group value): [amount, profit, n].

    From the monthly summary where the scope allows it; a manager's own book is summed from
    its transactions (a few hundred customers, through the (customer, date) index).
    """
    scope = f.sales_scope()
    if scope is not None:
        return sales.sales_by(scope, group, buckets)
    if group == "manager":
        # Sales by manager: each manager's sales while responsible for the customer
        # (dashboard.history), also of customers handed over since.
        ids = manager_ids if manager_ids is not None else [m.pk for m in f.managers()]
        summed = sales.summed_transactions(
            group,
            [(first, last) for _label, first, last in buckets],
            departments=[f.department_id] if f.department_id else None,
            managers=ids,
            customers=history.ever_managed_by(ids),
        )
        return {
            (label, key): list(values[i])
            for key, values in summed.items()
            for i, (label, _first, _last) in enumerate(buckets)
        }
    aggregates = {}
    # One row per group value, one conditional sum per bucket: plain date comparisons in SQL.
    for i, (_label, first, last) in enumerate(buckets):
        in_bucket = Q(date__gte=first, date__lte=last)
        aggregates[f"a{i}"] = Sum("amount", filter=in_bucket)
        aggregates[f"p{i}"] = Sum("profit", filter=in_bucket)
        aggregates[f"n{i}"] = Count("pk", filter=in_bucket)
    lookup = sales.GROUPS[group]
    rows = (
        f.scope(
            Transaction.objects.filter(
                date__gte=min(b[1] for b in buckets), date__lte=max(b[2] for b in buckets)
            )
        )
        .values(lookup)
        .annotate(**aggregates)
        .order_by()
    )
    cells = {}
    for row in rows:
        for i, (label, _first, _last) in enumerate(buckets):
            cells[(label, row[lookup] if row[lookup] is not None else "")] = [
                row[f"a{i}"] or ZERO,
                row[f"p{i}"] or ZERO,
                row[f"n{i}"] or 0,
            ]
    return cells


def sales_freshness(f: ReportFilters) -> dict:
    """Whether the figures come from the summaries, and when they were rebuilt."""
    if f.sales_scope() is None:
        return {"summarised": False}
    return {"summarised": True, "sales_as_of": f.summaries_refreshed_at}


def revenue_by_tier(f: ReportFilters) -> Report:
    """Revenue and profit of the period by quarter and by the customers' current tier."""
    quarters = quarters_between(f.start, f.end)
    cells = sales_cells(f, "tier", quarter_bounds(f.start, f.end))
    sums = {key: cell[:2] for key, cell in cells.items()}
    rows = []
    for quarter in quarters:
        revenue = [sums.get((quarter, t), [ZERO, ZERO])[0] for t in TIER_KEYS]
        profit = [sums.get((quarter, t), [ZERO, ZERO])[1] for t in TIER_KEYS]
        rows.append([quarter] + revenue + [sum(revenue, ZERO), sum(profit, ZERO)])
    totals = [_("Total")] + [sum((r[i] for r in rows), ZERO) for i in range(1, len(TIER_KEYS) + 3)]
    columns = [(_("Quarter"), TEXT)] + [
        (_("Revenue %(tier)s") % {"tier": tier_label(t)}, MONEY) for t in TIER_KEYS
    ]
    columns += [(_("Revenue"), MONEY), (_("Profit"), MONEY)]
    tier_profit = [
        [
            t,
            sum((sums.get((q, t), [ZERO, ZERO])[0] for q in quarters), ZERO),
            sum((sums.get((q, t), [ZERO, ZERO])[1] for q in quarters), ZERO),
        ]
        for t in TIER_KEYS
    ]
    chart = charts.stacked_bar_chart(
        quarters,
        [(tier_label(t), [r[i + 1] for r in rows]) for i, t in enumerate(TIER_KEYS)],
        title=_("Revenue by quarter and tier (¥)"),
        tier_colours=True,
    )
    line = charts.line_chart(
        quarters,
        [(_("Revenue"), [r[-2] for r in rows]), (_("Profit"), [r[-1] for r in rows])],
        title=_("Revenue and profit by quarter (¥)"),
    )
    by_tier_rows = [
        [tier_label(t), revenue, profit, rate(profit, revenue)]
        for t, revenue, profit in tier_profit
    ]
    return Report(
        "revenue",
        _("Revenue and profit"),
        columns,
        rows,
        chart,
        totals,
        extra={
            "line": line,
            "by_tier_columns": [
                (_("Tier"), TEXT),
                (_("Revenue"), MONEY),
                (_("Profit"), MONEY),
                (_("Margin %"), PERCENT),
            ],
            "by_tier_rows": by_tier_rows,
            **sales_freshness(f),
        },
    )


def manager_scorecard(f: ReportFilters) -> Report:
    """Per manager: sales of their customers and growth on the previous period, new customers,
    satisfaction (visit records and complaint confirmations), plan execution, complaint
    deadlines met."""
    managers = list(f.managers())
    ids = [m.pk for m in managers]
    customers = f.customers()
    length = (f.end - f.start).days + 1
    prev_start = f.start - timedelta(days=length)
    by_manager = sales_cells(
        f,
        "manager",
        [("now", f.start, f.end), ("previous", prev_start, f.start - timedelta(1))],
        manager_ids=ids,
    )
    # Customers per manager today by status, a read of the (manager, status, created_at)
    # index; COUNT(1), not of the key, so PostgreSQL needs only the index. The new ones count
    # for the manager responsible on the day each was created.
    mine = customers.filter(primary_manager__in=ids)
    growth: dict = defaultdict(lambda: {"now": 0, "new": 0})
    for row in mine.values("primary_manager", "status").annotate(n=Count(Value(1))).order_by():
        if row["status"] not in (CustomerStatus.TERMINATED, CustomerStatus.PROSPECT):
            growth[row["primary_manager"]]["now"] += row["n"]
    for manager_id, n in _new_customers_by_responsible_manager(f):
        growth[manager_id]["new"] = n
    visits = activity.visit_counts(f, actors=ids)
    model = complaint_model()
    complaint_rows = {}
    if model is not None:
        complaint_rows = _complaints_by_responsible_manager(f, model)
    rows = []
    for m in managers:
        s = {
            "sales": by_manager.get(("now", m.pk), [ZERO])[0],
            "previous": by_manager.get(("previous", m.pk), [ZERO])[0],
        }
        g = growth[m.pk]
        e = visits.get(m.pk) or activity.empty_visit_counts()
        c = complaint_rows.get(m.pk, {})
        sales_change = change(s["sales"], s["previous"])
        met = c.get("responded", 0) + c.get("resolved", 0)
        measured = c.get("respondable", 0) + c.get("resolvable", 0)
        rows.append(
            [
                str(m),
                s["sales"],
                None if sales_change is None else (sales_change * 100).quantize(Decimal("0.1")),
                g["now"],
                g["new"],
                _mean(e["satisfaction_sum"], e["satisfaction_count"]),
                _round(c.get("satisfaction")),
                rate(e["done"], e["due"]),
                rate(met, measured),
            ]
        )
    columns = [
        (_("Manager"), TEXT),
        (_("Sales"), MONEY),
        (_("Sales growth %"), PERCENT),
        (_("Customers"), INT),
        (_("New customers"), INT),
        (_("Visit satisfaction (1–5)"), DECIMAL),
        (_("Complaint satisfaction (1–5)"), DECIMAL),
        (_("Plan execution %"), PERCENT),
        (_("Complaint deadlines met %"), PERCENT),
    ]
    chart = charts.bar_chart([(r[0], r[1]) for r in rows], title=_("Sales per manager (¥)"))
    return Report(
        "scorecard",
        _("Manager scorecard"),
        columns,
        rows,
        chart,
        notes=_(
            "Sales growth compares with the period of the same length just before. "
            "Complaint deadlines met counts response and resolution deadlines together."
        ),
        extra=sales_freshness(f),
    )


def _mean(total, count) -> Decimal | None:
    return None if not count else (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"))


def _round(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


# --- early warning ------------------------------------------------------------------------


def risk_facts(customers: QuerySet, today: date) -> dict[int, dict]:
    """Return {customer id: facts} for the given customers that show at least one signal.

    Three reads, each one aggregate query: purchases of the two 4-week windows, tier drops in
    the latest published run, and customers with an overdue visit and an open complaint.
    """
    last_start = today - timedelta(days=RISK_WINDOW_DAYS - 1)
    prev_start = last_start - timedelta(days=RISK_WINDOW_DAYS)
    money = DecimalField(max_digits=16, decimal_places=2)
    moved = (
        Transaction.objects.filter(
            customer__in=customers.values("pk"), date__gte=prev_start, date__lte=today
        )
        .values("customer")
        .annotate(
            last=Coalesce(Sum("amount", filter=Q(date__gte=last_start)), ZERO, output_field=money),
            previous=Coalesce(
                Sum("amount", filter=Q(date__lt=last_start)), ZERO, output_field=money
            ),
        )
        .filter(previous__gt=0)
        .filter(
            Q(last__gt=F("previous") * (1 + RISK_RISE))
            | Q(last__lt=F("previous") * (1 + RISK_FALL))
        )
        .values_list("customer", "last", "previous")
        .order_by()
    )
    found: dict[int, dict] = {}
    for customer_id, last, previous in moved:
        found[customer_id] = {"last": last, "previous": previous}
    latest = published_runs().values("pk")[:1]
    for customer_id, old, new in Grade.objects.filter(
        run__in=latest, movement=Movement.DOWN, customer__in=customers.values("pk")
    ).values_list("customer", "previous_tier", "tier"):
        found.setdefault(customer_id, {}).update(dropped_from=old, dropped_to=new)
    model = complaint_model()
    if model is not None:
        overdue = PlannedVisit.objects.overdue(today).values("customer")
        complaints = open_complaints(model.objects.all()).values("customer")
        for customer_id in (
            customers.filter(pk__in=overdue).filter(pk__in=complaints).values_list("pk", flat=True)
        ):
            found.setdefault(customer_id, {})["overdue_and_complaint"] = True
    return found


def risk_rank(facts: dict) -> float:
    """How strong the warning is: the number of signals, then the size of the change (0: none)."""
    moved_by = change(facts.get("last", ZERO), facts.get("previous", ZERO))
    signals = (
        (moved_by is not None and (moved_by > RISK_RISE or moved_by < RISK_FALL))
        + tier_dropped(facts.get("dropped_from", ""), facts.get("dropped_to", ""))
        + bool(facts.get("overdue_and_complaint"))
    )
    return float(signals * 1000 + abs(moved_by or 0) * 100) if signals else 0.0


def risk_list(f: ReportFilters, *, limit: int | None = None) -> list[dict]:
    """Return the customers at risk in the scope, with the reasons, the strongest first.

    Read from the early-warning table, which the summaries job rebuilds every few minutes.
    """
    strongest = (
        f.scope(RiskSignal.objects.all())
        .exclude(customer__status=CustomerStatus.TERMINATED)
        .order_by("-rank", "customer_id")
        .values("pk")[: limit or RISK_LIST_MAX]
    )
    # The customers are joined to the few rows shown, not to every signal in the scope.
    signals = list(
        RiskSignal.objects.filter(pk__in=strongest)
        .select_related("customer__primary_manager", "customer__department")
        .order_by("-rank", "customer_id")
    )
    top = [(signal.customer_id, signal.facts()) for signal in signals]
    by_id = {signal.customer_id: signal.customer for signal in signals}
    result = []
    for customer_id, facts in top:
        if customer_id not in by_id:
            continue
        moved_by = change(facts.get("last", ZERO), facts.get("previous", ZERO))
        result.append(
            {
                "customer": by_id[customer_id],
                "reasons": _reasons_of(facts),
                "last": facts.get("last"),
                "previous": facts.get("previous"),
                "change": None if moved_by is None else (moved_by * 100).quantize(Decimal("1")),
            }
        )
    return result


def _reasons_of(facts: dict) -> list[str]:
    return risk_reasons(
        last=facts.get("last", ZERO),
        previous=facts.get("previous", ZERO),
        dropped_from=facts.get("dropped_from", ""),
        dropped_to=facts.get("dropped_to", ""),
        overdue_and_complaint=facts.get("overdue_and_complaint", False),
    )


def risk_report(f: ReportFilters) -> Report:
    risks = risk_list(f)
    rows = [
        [
            r["customer"].name,
            str(r["customer"].primary_manager or ""),
            r["customer"].tier or "",
            r["previous"],
            r["last"],
            r["change"],
            "; ".join(r["reasons"]),
        ]
        for r in risks
    ]
    columns = [
        (_("Customer"), TEXT),
        (_("Manager"), TEXT),
        (_("Tier"), TEXT),
        (_("Previous 4 weeks"), MONEY),
        (_("Last 4 weeks"), MONEY),
        (_("Change %"), PERCENT),
        (_("Reason"), TEXT),
    ]
    return Report(
        "risks",
        _("Early warning"),
        columns,
        rows,
        extra={
            "risks": risks,
            "summarised": True,
            "sales_as_of": services.summaries_refreshed_at(),
        },
        notes=_(
            "Purchases of the last 4 weeks moved by more than +30 % or −20 % against the "
            "4 weeks before, the tier dropped in the latest published grading, or an overdue "
            "visit together with an open complaint."
        ),
    )


REPORTS = {
    "tiers": (tier_distribution, gettext_lazy("Tier distribution")),
    "movement": (tier_movement, gettext_lazy("Tier movement")),
    "visits": (visit_execution, gettext_lazy("Visit plan execution")),
    "feedback": (feedback_compliance, gettext_lazy("Information feedback quota")),
    "complaints": (complaint_deadlines, gettext_lazy("Complaint deadlines")),
    "contracts": (contract_pipeline, gettext_lazy("Contract pipeline")),
    "revenue": (revenue_by_tier, gettext_lazy("Revenue and profit")),
    "scorecard": (manager_scorecard, gettext_lazy("Manager scorecard")),
    "risks": (risk_report, gettext_lazy("Early warning")),
}
