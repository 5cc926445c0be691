from celery import shared_task

from . import services


@shared_task
def complaint_check_deadlines_task() -> dict[str, int]:
    return services.complaint_check_deadlines()
