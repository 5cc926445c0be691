from celery import shared_task

from config.celery import RETRYING

from . import sales, services


@shared_task(ignore_result=True)
def heartbeat_task(name: str = services.BEAT) -> None:
    """Record that beat's schedule (or a check such as prod-smoke) reached a worker."""
    services.heartbeat_record(name=name[:50])


@shared_task(ignore_result=True, **RETRYING)
def sales_summary_refresh_task() -> int:
    """Rebuild the monthly sales summary the reports and home pages read."""
    return sales.refresh_sales_summary()
