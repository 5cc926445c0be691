"""Reads of the visits app that views, the dashboard and other apps use."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from accounts import permissions as account_permissions
from accounts.models import Customer, User

from . import rules
from .models import InformationFeedback, PlannedVisit, VisitRecord


def plans_for(user, *, scope: str = "mine"):
    """Return open planned visits: the user's own, or (scope "department") those of the
    customers the user may see as head/executive; earliest (so overdue) first."""
    visits = PlannedVisit.objects.open().select_related(
        "customer", "assigned_to", "customer__department"
    )
    visits = visits.visible_to(user) if scope == "department" else visits.filter(assigned_to=user)
    return visits.order_by("due_date", "pk")


def my_overdue_visits(user, *, today: date | None = None):
    """Return the user's overdue planned visits, the longest overdue first."""
    today = today or timezone.localdate()
    return (
        PlannedVisit.objects.overdue(today)
        .filter(assigned_to=user)
        .select_related("customer")
        .order_by("due_date", "pk")
    )


def customer_timeline(customer: Customer):
    """Return the customer's visit records, newest first, with participants and contacts."""
    return (
        VisitRecord.objects.filter(customer=customer)
        .select_related("recorded_by")
        .prefetch_related("participants", "contacts")
        .order_by("-date", "-id")
    )


def feedback_compliance_rows(*, managers, year: int, month: int) -> list[dict]:
    """Return each manager's feedback of a month counted by tier, with the quota check.

    One query for the counts, whatever the number of managers.
    """
    first, following = rules.month_bounds(year, month)
    start = timezone.make_aware(timezone.datetime(first.year, first.month, first.day))
    end = timezone.make_aware(timezone.datetime(following.year, following.month, following.day))
    managers = list(managers)
    counts = {}
    for row in (
        InformationFeedback.objects.filter(
            submitted_by__in=[m.pk for m in managers],
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .values("submitted_by", "customer_tier")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts.setdefault(row["submitted_by"], {})[row["customer_tier"]] = row["n"]
    return [
        {"manager": manager, "result": rules.feedback_compliance(counts.get(manager.pk, {}))}
        for manager in managers
    ]


def compliance_managers(user):
    """Return the managers whose feedback compliance this user may see."""
    managers = User.objects.filter(
        is_active=True, groups__name=account_permissions.Role.ACCOUNT_MANAGER
    ).select_related("department")
    if account_permissions.sees_everything(user):
        return managers.order_by("department__name", "username").distinct()
    if account_permissions.is_department_head(user):
        departments = account_permissions.headed_department_ids(user)
        return managers.filter(department__in=departments).order_by("username").distinct()
    return managers.filter(pk=user.pk)


def pool_contact_sources():
    """Latest visit and feedback dates per customer, for the pool's return rules
    (settings.POOL_CONTACT_SOURCES)."""
    return [
        Subquery(
            VisitRecord.objects.filter(customer=OuterRef("pk")).order_by("-date").values("date")[:1]
        ),
        Subquery(
            InformationFeedback.objects.filter(customer=OuterRef("pk"))
            .order_by("-submitted_at")
            .values("submitted_at")[:1]
        ),
    ]
