from celery import shared_task

from . import services


@shared_task
def contracts_daily_job_task() -> dict[str, int]:
    """Expire ended contracts and send the due expiry reminders (idempotent)."""
    return services.contracts_daily_job()


@shared_task
def receivables_send_reminders_task() -> dict[str, int]:
    """Due reminders and the Monday overdue digest (idempotent: dedup keys)."""
    return services.receivables_send_reminders()
