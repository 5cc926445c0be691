"""The derived tables the reports and home pages read: the monthly sales, visit and feedback
summaries and the early-warning list. One job rebuilds them all in one transaction, every few
minutes (beat) and after a grading run is published; readers see the previous tables until it
commits."""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, CustomerStatus
from config.jobs import serialize_job

from . import activity, reports, sales
from .models import Heartbeat, RiskSignal
from .services import SUMMARIES

logger = logging.getLogger(__name__)

BATCH = 2000


def refresh_summaries(*, today: date | None = None) -> dict[str, int]:
    """Rebuild the monthly summaries and the early-warning list; return their row counts."""
    today = today or timezone.localdate()
    # Read first: the write transaction (which holds SQLite's only write lock) stays short.
    risks = risk_signals(today)
    with transaction.atomic():
        serialize_job(SUMMARIES)
        counts = {
            "sales": sales.rebuild_sales_summary(),
            "visits": activity.rebuild_visit_summary(today),
            "feedback": activity.rebuild_feedback_summary(),
            "risks": len(risks),
        }
        RiskSignal.objects.all().delete()  # a derived table, rebuilt here
        RiskSignal.objects.bulk_create(risks, batch_size=BATCH)
        Heartbeat.objects.update_or_create(name=SUMMARIES, defaults={"beat_at": timezone.now()})
    logger.info("Summaries rebuilt: %s", counts)
    return counts


def risk_signals(today: date) -> list[RiskSignal]:
    """The early-warning list computed for today over every customer (unsaved rows)."""
    found = reports.risk_facts(Customer.objects.exclude(status=CustomerStatus.TERMINATED), today)
    rows = []
    for customer_id, facts in found.items():
        rank = reports.risk_rank(facts)
        if not rank:
            continue
        rows.append(
            RiskSignal(
                customer_id=customer_id,
                last=facts.get("last"),
                previous=facts.get("previous"),
                dropped_from=facts.get("dropped_from", ""),
                dropped_to=facts.get("dropped_to", ""),
                overdue_and_complaint=bool(facts.get("overdue_and_complaint")),
                rank=rank,
                computed_on=today,
            )
        )
    return rows
