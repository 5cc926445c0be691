from celery import shared_task

from config.celery import RETRYING

from . import services, summaries


@shared_task(ignore_result=True)
def heartbeat_task(name: str = services.BEAT) -> None:
    """Record that beat's schedule (or a check such as prod-smoke) reached a worker."""
    services.heartbeat_record(name=name[:50])


@shared_task(ignore_result=True, **RETRYING)
def summaries_refresh_task() -> dict[str, int]:
    """Rebuild the sales summary and the early-warning list the reports and home pages read."""
    return summaries.refresh_summaries()
