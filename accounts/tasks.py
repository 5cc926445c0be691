from celery import shared_task

from . import services


@shared_task(acks_late=True)
def pool_return_run_task() -> dict[str, int]:
    return services.pool_return_run()
