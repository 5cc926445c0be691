"""What the home page shows each role: a fixed set of bounded reads (sliced lists and counts)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Case, Count, IntegerField, Q, Sum, When, Window
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts import permissions
from accounts.models import Customer, CustomerStatus
from accounts.selectors import pool_returning_soon
from contracts.models import Contract, ContractStatus
from contracts.selectors import steps_waiting_for
from notifications.models import Notification
from tiers.models import AppealStatus, Grade, GradingRun, RunStatus
from visits.models import CareStatus, CareTask, PlannedVisit

from . import reports, sales, services

LIST_SIZE = 8
CARE_DAYS_AHEAD = 7
# Contracts whose owner has the next move: a draft (new or rejected), an approved one to sign,
# a signed one to put in force or file.
OWNER_ACTION_STATUSES = [ContractStatus.DRAFT, ContractStatus.APPROVED, ContractStatus.SIGNED]


def _sliced(qs, size: int = LIST_SIZE) -> tuple[list, bool]:
    """Return up to size rows and whether there are more, in one query."""
    rows = list(qs[: size + 1])
    return rows[:size], len(rows) > size


def home_context(user, *, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    is_head = permissions.is_department_head(user)
    is_manager = permissions.is_account_manager(user)
    sees_all = permissions.sees_everything(user)
    departments = permissions.headed_department_ids(user) if is_head else []
    # One grouped read gives the customers by tier and, for those who see every customer,
    # the company's counts by status.
    status_rows = list(
        Customer.objects.visible_to(user)
        .values("status", "tier")
        .annotate(n=Count("pk"), pooled=Count("pk", filter=Q(primary_manager__isnull=True)))
        .order_by()
    )
    by_tier: dict[str, int] = {}
    for row in status_rows:
        if row["status"] != CustomerStatus.TERMINATED and row["n"] > row["pooled"]:
            by_tier[row["tier"]] = by_tier.get(row["tier"], 0) + row["n"] - row["pooled"]
    context: dict = {
        "today": today,
        "now": timezone.now(),
        "is_head": is_head,
        "is_manager": is_manager,
        "sees_all": sees_all,
        "customer_count": sum(by_tier.values()),
        "by_tier": by_tier,
        "tier_rows": [(t, by_tier.get(t, 0)) for t in reports.TIER_KEYS],
        "recent_notifications": list(Notification.objects.for_user(user).unread()[:5]),
        # Only a manager's own customers go back to the pool.
        "returning_soon": pool_returning_soon(user)[:10] if is_manager else [],
    }
    work = is_manager or is_head
    if work:
        # A head sees their department's work; a manager their own.
        if is_head:
            visit_scope = Q(customer__department__in=departments)
            care_scope = Q(customer__department__in=departments)
            contract_scope = Q(department__in=departments)
        else:
            visit_scope = Q(assigned_to=user)
            care_scope = Q(assigned_to=user)
            contract_scope = Q(owner=user)
        # The first rows and the counts of all rows in one query: window sums over the
        # whole filtered set, computed before the LIMIT.
        context["visits"], context["more_visits"] = _sliced(
            PlannedVisit.objects.open()
            .filter(visit_scope, due_date__lte=today)
            .select_related("customer", "assigned_to")
            .annotate(
                overdue_total=Window(_count_where(Q(due_date__lt=today))),
                today_total=Window(_count_where(Q(due_date=today))),
            )
            .order_by("due_date", "pk")
        )
        first = context["visits"][0] if context["visits"] else None
        context["visit_counts"] = {
            "overdue": first.overdue_total if first else 0,
            "today": first.today_total if first else 0,
        }
        context["care_tasks"], context["more_care"] = _sliced(
            CareTask.objects.filter(
                care_scope,
                status=CareStatus.OPEN,
                due_date__lte=today + timedelta(days=CARE_DAYS_AHEAD),
            )
            .select_related("customer", "contact", "holiday", "assigned_to")
            .order_by("due_date", "pk")
        )
        context["owned_contracts"], context["more_contracts"] = _sliced(
            Contract.objects.filter(contract_scope, status__in=OWNER_ACTION_STATUSES)
            .select_related("customer", "owner")
            .order_by("updated_at", "pk")
        )
        context["complaints_url"] = _url_or(
            lambda: reverse("complaints:list"), lambda: reverse("accounts:customer_list")
        )
        context["complaints"], context["more_complaints"] = _open_complaints(
            user, departments if is_head else None
        )
        context["risks"] = reports.risk_list(
            reports.ReportFilters(user=user, start=today, end=today, today=today), limit=LIST_SIZE
        )
    if is_head or sees_all:
        context["waiting_steps"] = list(steps_waiting_for(user)[:10])
    if is_head:
        context["grades_to_review"] = list(
            Grade.objects.filter(
                run__status=RunStatus.UNDER_REVIEW, customer__department__in=departments
            )
            .values("run", "run__period")
            .annotate(
                n=Count("pk"),
                incomplete=Count("pk", filter=Q(incomplete=True)),
                moved=Count("pk", filter=~Q(movement="same")),
            )
            .order_by("run__period")
        )
    if is_head or permissions.is_executive(user) or permissions.is_admin(user):
        context["appeals_pending"] = (
            Grade.objects.visible_to(user).filter(appeal__status=AppealStatus.PENDING).count()
        )
    if sees_all:
        context["totals"] = company_totals(today, status_rows)
        context["runs_to_review"] = list(
            GradingRun.objects.filter(
                status__in=[RunStatus.COMPUTED, RunStatus.UNDER_REVIEW]
            ).order_by("-period")[:3]
        )
    return context


def _count_where(condition: Q) -> Sum:
    return Sum(Case(When(condition, then=1), default=0, output_field=IntegerField()))


def _open_complaints(user, departments):
    model = reports.complaint_model()
    if model is None:
        return [], False
    qs = reports.open_complaints(model.objects.all())
    if departments is not None:
        qs = qs.filter(customer__department__in=departments)
    else:
        qs = qs.filter(customer__in=Customer.objects.managed_by(user).values("pk"))
    rows, more = _sliced(qs.select_related("customer").order_by("resolution_due_at", "pk"))
    for complaint in rows:
        complaint.link = _url_or(complaint.get_absolute_url, complaint.customer.get_absolute_url)
    return rows, more


def _url_or(first, fallback) -> str:
    """Return first() unless that page does not exist (yet), then fallback()."""
    try:
        return first()
    except NoReverseMatch:
        return fallback()


def company_totals(today: date, status_rows: list[dict]) -> dict:
    """Company-wide figures for finance and executives: a few aggregate queries; sales from
    the monthly summary. `status_rows` are every customer counted by status and tier."""
    year_start = date(today.year, 1, 1)

    def counted(status: str) -> int:
        return sum(row["n"] for row in status_rows if row["status"] == status)

    customers = {
        "admitted": counted(CustomerStatus.ACTIVE),
        "dormant": counted(CustomerStatus.DORMANT),
        "pending": counted(CustomerStatus.PENDING_ADMISSION),
        "pool": sum(
            row["pooled"] for row in status_rows if row["status"] != CustomerStatus.TERMINATED
        ),
    }
    revenue, profit = sales.total(sales.Scope(), year_start, today)
    contracts = Contract.objects.aggregate(
        pending_n=Count("pk", filter=Q(status=ContractStatus.PENDING)),
        pending_amount=Sum("amount", filter=Q(status=ContractStatus.PENDING)),
        active_amount=Sum("amount", filter=Q(status=ContractStatus.ACTIVE)),
    )
    model = reports.complaint_model()
    open_complaints = reports.open_complaints(model.objects.all()).count() if model else None
    return {
        **customers,
        "revenue": revenue,
        "profit": profit,
        "sales_as_of": services.summaries_refreshed_at(),
        **contracts,
        "open_complaints": open_complaints,
        "year": today.year,
    }
