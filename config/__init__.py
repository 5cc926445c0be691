# Load the Celery app whenever Django starts so that @shared_task binds to it.
from . import middleware  # noqa: F401  (connects the log-in signal for idle sessions)
from .celery import app as celery_app

__all__ = ("celery_app",)
