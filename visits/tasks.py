from celery import shared_task

from . import services


@shared_task(acks_late=True)
def visits_daily_run_task() -> dict:
    """Visit reminders, care tasks and archive-check reminders (daily; safe to run twice)."""
    return services.visits_daily_run()


@shared_task
def visit_plan_regenerate_task(customer_ids: list[int] | None = None) -> dict:
    return services.visit_plan_regenerate(customer_ids=customer_ids)
