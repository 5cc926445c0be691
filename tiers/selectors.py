"""Reads for the tiers pages."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F

from accounts.models import Customer, Tier

from . import scoring
from .models import INDICATOR_LABELS, Assessment, Grade, IndicatorSource, RunStatus, ScoringModel


def latest_assessments(customer: Customer) -> dict[str, Assessment]:
    """Return the customer's latest assessment per indicator code."""
    latest: dict[str, Assessment] = {}
    for assessment in customer.assessments.select_related("assessed_by").order_by(
        "-assessed_at", "-id"
    ):
        latest.setdefault(assessment.indicator_code, assessment)
    return latest


UNITS = {
    scoring.ANNUAL_PURCHASE: "yuan",
    scoring.PROFIT_CONTRIBUTION: "percent",
    scoring.PAYMENT_RECORD: "percent",
    scoring.REPURCHASE_RATE: "percent",
}


def breakdown_rows(grade: Grade, model: ScoringModel) -> list[dict]:
    """Return one row per indicator of the grade's model: label, weight, raw, normalised,
    weighted and the bar's width in percent of the weight."""
    rows = []
    for indicator in model.indicators.all():
        raw, normalised, weighted = grade.breakdown.get(indicator.code, [None, "0", "0"])
        rows.append(
            {
                "indicator": indicator,
                "label": indicator.label,
                "weight": indicator.weight,
                "raw": None if raw is None else Decimal(raw),
                "normalised": Decimal(str(normalised)),
                "weighted": Decimal(str(weighted)),
                "computed": indicator.source == IndicatorSource.COMPUTED,
                "missing": raw is None,
                "unit": UNITS.get(indicator.code, ""),
            }
        )
    return rows


def latest_published_grade(customer: Customer) -> Grade | None:
    return (
        Grade.objects.filter(
            customer=customer, run__status__in=[RunStatus.PUBLISHED, RunStatus.CLOSED]
        )
        .select_related("run", "run__scoring_model")
        .order_by("-run__period")
        .first()
    )


def next_tier(grade: Grade, model: ScoringModel) -> dict | None:
    """What it takes for this grade to reach the next tier (None when it is already A)."""
    raws = {
        code: (None if values[0] is None else Decimal(values[0]))
        for code, values in grade.breakdown.items()
    }
    spec = model.spec()
    target, threshold, steps = scoring.next_tier_steps(raws, spec)
    if target is None:
        return None
    return {
        "tier": target,
        "threshold": threshold,
        "steps": [
            {
                "label": INDICATOR_LABELS.get(step.code, step.code),
                "code": step.code,
                "current": step.current_raw,
                "needed": step.needed_raw,
                "change": step.change,
                "new_score": step.new_score,
                "unit": UNITS.get(step.code, ""),
            }
            for step in steps
        ],
    }


def publication_distribution(run) -> list[dict]:
    """Customers per tier now and after the run's publication, in three grouped queries.

    Now: every customer with a tier, plus the customers the run grades for the first time
    (as "not graded"). After: the run's customers take their grade's tier; the others keep
    theirs. Rows: one per tier, then the not-graded row, each {tier, now, after, change}.
    """
    now: dict[str, int] = dict(
        Customer.objects.exclude(tier="")
        .values("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    leaving: dict[str, int] = dict(
        Grade.objects.filter(run=run)
        .values("customer__tier")
        .annotate(n=Count("pk"))
        .values_list("customer__tier", "n")
    )
    arriving: dict[str, int] = dict(
        Grade.objects.filter(run=run)
        .values("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    now[""] = leaving.get("", 0)  # graded by this run, no tier yet
    rows = []
    for tier in [*Tier.values, ""]:
        before = now.get(tier, 0)
        after = before - leaving.get(tier, 0) + arriving.get(tier, 0)
        rows.append({"tier": tier, "now": before, "after": after, "change": after - before})
    return rows


def publication_changes(run):
    """The run's grades whose tier differs from the customer's tier now, by customer name."""
    return (
        Grade.objects.filter(run=run)
        .exclude(tier=F("customer__tier"))
        .select_related("customer", "customer__department")
        .order_by("customer__name", "customer_id")
    )
