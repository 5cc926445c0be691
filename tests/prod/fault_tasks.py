"""A job for the fault tests: slow, chunked and idempotent like the product's jobs."""

import time

from celery import shared_task

from accounts.models import User
from notifications.services import notify


@shared_task(name="tests.prod.slow_notify_task", ignore_result=True)
def slow_notify_task(user_ids: list[int], key: str, delay: float, log_path: str) -> None:
    """Notify each user once (dedup key per user), pausing between them; log each start."""
    with open(log_path, "a") as log:
        log.write("start\n")
    for user in User.objects.filter(pk__in=user_ids).order_by("pk"):
        notify(recipient=user, message=f"Run {key}", email=False, dedup_key=f"{key}:{user.pk}")
        time.sleep(delay)
