"""Security headers, log-in throttling and idle sessions."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client

from config.middleware import LAST_RENEWED_KEY
from tests.factories import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.django_db
def test_every_page_carries_a_csp_without_inline_script_or_outside_origin(client_for, manager):
    response = client_for(manager).get("/customers/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy and "*" not in policy


def test_no_template_has_inline_script_handler_or_style():
    """A page that needed 'unsafe-inline' would break under the policy above."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",  # inline script
            r"\son[a-z]+\s*=",  # onclick=, onchange=, ...
            r"\sstyle\s*=",  # inline style attribute
            r"<style[\s>]",  # inline style element
            r"javascript:",
        ):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


def _failed_login(client: Client, username: str) -> int:
    response = client.post("/login/", {"username": username, "password": "wrong"})
    return response.status_code


@pytest.mark.django_db
def test_five_failed_log_ins_lock_the_username_from_that_ip(settings, manager, manager2):
    settings.AXES_ENABLED = True
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert [_failed_login(client, manager.username) for _ in range(5)] == [200, 200, 200, 200, 429]
    locked = client.post("/login/", {"username": manager.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address, and the same user from another address, may log in.
    other = Client(REMOTE_ADDR="10.0.0.1").post(
        "/login/", {"username": manager2.username, "password": PASSWORD}
    )
    assert other.status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.0.0.2").post(
        "/login/", {"username": manager.username, "password": PASSWORD}
    )
    assert elsewhere.status_code == 302


@pytest.mark.django_db
def test_an_admin_unlocks_a_locked_user(settings, manager, admin_user, client_for):
    settings.AXES_ENABLED = True
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        _failed_login(client, manager.username)
    attempt = AccessAttempt.objects.get(username=manager.username)
    admin = client_for(admin_user)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and manager.username in page.content.decode()
    admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.exists()
    response = client.post("/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_lockout_expires_after_an_hour(settings, manager, time_machine):
    settings.AXES_ENABLED = True
    time_machine.move_to("2026-11-23 10:00:00+08:00", tick=False)
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        _failed_login(client, manager.username)
    time_machine.move_to("2026-11-23 10:59:00+08:00", tick=False)
    assert _failed_login(client, manager.username) == 429
    time_machine.move_to("2026-11-23 12:01:00+08:00", tick=False)
    ok = client.post("/login/", {"username": manager.username, "password": PASSWORD})
    assert ok.status_code == 302


@pytest.mark.django_db
def test_session_expiry_is_renewed_by_activity_at_most_once_a_minute(client_for, manager):
    client = client_for(manager)
    client.get("/customers/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    renewed_at = client.session[LAST_RENEWED_KEY]
    client.get("/customers/")
    assert client.session[LAST_RENEWED_KEY] == renewed_at  # no write within the minute
    session = client.session
    session[LAST_RENEWED_KEY] = int(time.time()) - 61
    session.save()
    client.get("/customers/")
    assert Session.objects.get(session_key=key).expire_date >= first
    assert client.session[LAST_RENEWED_KEY] > renewed_at - 61


@pytest.mark.django_db
def test_an_idle_session_ends(client_for, manager, settings, time_machine):
    time_machine.move_to("2026-11-23 09:00:00+08:00", tick=False)
    client = client_for(manager)
    assert client.get("/customers/").status_code == 200
    time_machine.move_to("2026-11-23 16:59:00+08:00", tick=False)
    assert client.get("/customers/").status_code == 200  # within 8 h: renewed
    time_machine.move_to("2026-11-24 00:58:00+08:00", tick=False)
    assert client.get("/customers/").status_code == 200  # 8 h after the last activity, less 1 min
    time_machine.move_to("2026-11-24 09:00:00+08:00", tick=False)
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
