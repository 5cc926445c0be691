"""/healthz: database and broker reachability as JSON, 200 or 503, nothing else leaked."""

from __future__ import annotations

import datetime
import socket
from unittest import mock

import pytest
from django.utils import timezone

from dashboard import services
from dashboard.models import Heartbeat
from dashboard.tasks import heartbeat_task


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_it_answers_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert set(body) == {"database", "broker", "beat_age_seconds"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_the_broker_down_with_503(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    started = timezone.now()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"
    assert (timezone.now() - started).total_seconds() < 3
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_it_reports_the_database_down_with_503(client):
    with mock.patch.object(services, "database_ok", return_value=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "broker": "ok"}


@pytest.mark.django_db
def test_it_reports_a_filesystem_broker_folder_that_cannot_be_written(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}
    assert client.get("/healthz").status_code == 503
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_heartbeat_task_records_the_age_shown_by_healthz(client, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC), tick=False)
    assert client.get("/healthz").json()["beat_age_seconds"] is None
    heartbeat_task.delay()
    heartbeat_task.delay()
    assert Heartbeat.objects.count() == 1
    time_machine.move_to(datetime.datetime(2026, 11, 23, 10, 1, tzinfo=datetime.UTC), tick=False)
    assert client.get("/healthz").json()["beat_age_seconds"] == 60
