from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def heartbeat_task(name: str = services.BEAT) -> None:
    """Record that beat's schedule (or a check such as prod-smoke) reached a worker."""
    services.heartbeat_record(name=name[:50])
