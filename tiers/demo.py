"""Demo data for tiers: managers' assessments, and published grading for the last two quarters."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Customer

from . import scoring, services
from .models import Assessment, IndicatorSource

BATCH = 50000
FIELDS = [
    "customer_id",
    "indicator_code",
    "value",
    "period",
    "assessed_at",
    "assessed_by_id",
    "note",
]


def seed(context) -> None:
    """Assess every customer for the last two quarters and publish both gradings (set-based),
    so that movement and tier history show."""
    from accounts.management.commands.seed_demo import fast_insert

    tz = ZoneInfo(settings.TIME_ZONE)
    rng = context.rng
    last = scoring.period_just_ended(context.today)
    periods = [last.previous(), last]
    codes = list(
        services.active_scoring_model()
        .indicators.filter(source=IndicatorSource.ASSESSED)
        .values_list("code", flat=True)
    )
    managers = dict(
        Customer.objects.filter(pk__in=context.customer_ids).values_list("pk", "primary_manager")
    )
    moments = {}  # one datetime object per day: the same value is adapted faster
    batch: list[tuple] = []
    for customer_id in context.customer_ids:
        base = rng.gauss(68, 14)
        for period in periods:
            day = period.end - datetime.timedelta(days=rng.randint(5, 60))
            at = moments.setdefault(
                day, datetime.datetime.combine(day, datetime.time(10), tzinfo=tz)
            )
            drift = rng.uniform(-8, 8)
            for code in codes:
                if rng.random() < 0.04:  # now and then one is forgotten: the grade is incomplete
                    continue
                value = min(100, max(0, base + drift + rng.uniform(-10, 10)))
                batch.append(
                    (
                        customer_id,
                        code,
                        f"{value:.1f}",
                        str(period),
                        at,
                        managers.get(customer_id),
                        "",
                    )
                )
        if len(batch) >= BATCH:
            fast_insert(Assessment, FIELDS, batch)
            batch = []
    fast_insert(Assessment, FIELDS, batch)

    executive = context.users["gm"]
    for period in periods:
        run = services.grading_run_compute(period=period)
        if run.is_editable:
            services.grading_run_start_review(run=run, started_by=executive)
            services.grading_run_publish(run=run, published_by=executive)
        context.stdout.write(f"Tiers: grading {run.period} published ({run.grade_count} grades).")
