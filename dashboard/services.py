"""Health of the running system: database, broker and beat."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"
SUMMARIES = "summaries"  # the heartbeat of dashboard.summaries.refresh_summaries
TIMEOUT_SECONDS = 2


def heartbeat_record(*, name: str = BEAT) -> None:
    """Record that a scheduled job just ran (one row per name, updated in place)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


def heartbeat_age_seconds(*, name: str = BEAT) -> int | None:
    """Return how many seconds ago the named heartbeat ran, or None if it never did."""
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return None
    return max(0, int((timezone.now() - beat_at).total_seconds()))


def summaries_refreshed_at():
    """When the sales summary and early-warning list were last rebuilt (None: never)."""
    return Heartbeat.objects.filter(name=SUMMARIES).values_list("beat_at", flat=True).first()


def database_ok() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = %s", [TIMEOUT_SECONDS * 1000])
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def broker_ok() -> bool:
    """Return whether the Celery broker accepts connections (Redis) or writes (filesystem)."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        if url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-", delete=True):
                pass
            return os.access(folder, os.W_OK)
        if url.startswith("memory://"):
            return True
    except Exception:
        return False
    return False
