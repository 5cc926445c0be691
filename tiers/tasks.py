from celery import shared_task

from . import scoring, services


@shared_task
def grading_run_compute_task(period: str | None = None) -> int:
    """Compute the grading run of a period (default: the quarter just ended); return its id."""
    from django.utils import timezone

    period = period or str(scoring.period_just_ended(timezone.localdate()))
    return services.grading_run_compute(period=period).pk
