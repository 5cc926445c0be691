from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Record that beat's schedule reached a worker; /healthz reports its age."""
    services.heartbeat_record()
