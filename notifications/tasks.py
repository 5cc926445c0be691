from celery import shared_task

from accounts.models import User
from config.celery import RETRYING

from . import services


@shared_task(ignore_result=True, **RETRYING)
def notify_task(
    recipient_id: int, message: str, link: str = "", dedup_key: str | None = None
) -> None:
    """Notify a user from a job (idempotent when given a dedup_key)."""
    recipient = User.objects.filter(pk=recipient_id).first()
    services.notify(recipient=recipient, message=message, link=link, dedup_key=dedup_key)


@shared_task(ignore_result=True)
def pending_tasks_resend_task() -> int:
    """Re-send the jobs recorded while the broker was down."""
    return services.pending_tasks_resend()
