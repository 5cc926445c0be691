"""Demo data for tiers: managers' assessments, and published grading for the last quarter."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Customer

from . import scoring, services
from .models import Assessment, IndicatorSource

BATCH = 5000
# Small demos also get the quarter before, so that movement and tier history show.
TWO_RUNS_UP_TO = 2000


def seed(context) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    rng = context.rng
    last = scoring.period_just_ended(context.today)
    periods = [last.previous(), last] if len(context.customer_ids) <= TWO_RUNS_UP_TO else [last]
    codes = list(
        services.active_scoring_model()
        .indicators.filter(source=IndicatorSource.ASSESSED)
        .values_list("code", flat=True)
    )
    managers = dict(
        Customer.objects.filter(pk__in=context.customer_ids).values_list("pk", "primary_manager")
    )
    batch: list[Assessment] = []
    for customer_id in context.customer_ids:
        base = rng.gauss(68, 14)
        for period in periods:
            day = period.end - datetime.timedelta(days=rng.randint(5, 60))
            at = datetime.datetime.combine(day, datetime.time(10), tzinfo=tz)
            drift = rng.uniform(-8, 8)
            for code in codes:
                if rng.random() < 0.04:  # now and then one is forgotten: the grade is incomplete
                    continue
                value = min(100, max(0, base + drift + rng.uniform(-10, 10)))
                batch.append(
                    Assessment(
                        customer_id=customer_id,
                        indicator_code=code,
                        value=Decimal(f"{value:.1f}"),
                        period=str(period),
                        assessed_at=at,
                        assessed_by_id=managers.get(customer_id),
                        note="",
                    )
                )
        if len(batch) >= BATCH:
            Assessment.objects.bulk_create(batch)
            batch = []
    Assessment.objects.bulk_create(batch)

    executive = context.users["gm"]
    for period in periods:
        run = services.grading_run_compute(period=period)
        if run.is_editable:
            services.grading_run_start_review(run=run, started_by=executive)
            services.grading_run_publish(run=run, published_by=executive)
        context.stdout.write(f"Tiers: grading {run.period} published ({run.grade_count} grades).")
