"""Twenty managers claim one pool customer at the same moment through a real multi-worker server.

A gunicorn with several worker processes and threads is started on a free port of 127.0.0.1
against the test database (PostgreSQL with DATABASE_URL=postgres://…, otherwise the SQLite file
of config.settings.test in WAL mode). Each manager has their own session and sees the customer
in their department's pool; all twenty post the claim at once. In every round exactly one
becomes the owner, the nineteen others land back on the pool page with a message saying that
another manager claimed it, and no request ends in a server error.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AssignmentChange, AssignmentKind, Customer
from accounts.permissions import Role
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import zh

MANAGERS = 20
ROUNDS = 5
WORKERS = 4
THREADS_PER_WORKER = 5
ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    user = urllib.parse.quote(db["USER"] or "")
    password = ":" + urllib.parse.quote(db["PASSWORD"]) if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Session:
    """One signed-in visitor: its own cookies, plain HTTP/1.1, redirects followed by hand."""

    def __init__(self, port: int, cookies: dict[str, str]):
        self.port = port
        self.cookies = dict(cookies)

    def request(self, method: str, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data) if data is not None else None
        headers = {"Accept-Language": "zh-hans", "Host": f"127.0.0.1:{self.port}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in header.lower() or value in ('""', ""):
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            return response.status, response.headers.get("Location", ""), text
        finally:
            conn.close()


@contextlib.contextmanager
def running_server(log_path: Path):
    """Start gunicorn (WORKERS processes × THREADS_PER_WORKER threads); stop its group after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        # Sessions are made here by the test: the server must sign and check them alike.
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(),
        AXES_ENABLED="false",
        CACHE_KEY_PREFIX=f"race-{uuid.uuid4().hex[:8]}",
        CELERY_BROKER_DIR=str(log_path.parent / "broker"),
        PYTHONUNBUFFERED="1",
    )
    if connection.vendor == "postgresql":
        # The production shape: sessions and the page cache in the Redis every worker shares.
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    else:
        env.pop("REDIS_URL", None)
        env["CACHE_URL"] = ""
    command = [
        str(GUNICORN),
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={WORKERS}",
        f"--threads={THREADS_PER_WORKER}",
        "--timeout=120",
        "--graceful-timeout=5",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited ({process.returncode}):\n{log_path.read_text()}")
            try:
                status, _location, _text = Session(port, {}).request("GET", "/login/")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 60 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def signed_in_cookies(user) -> dict[str, str]:
    """Log the user in through the session engine the server reads (the sessions table)."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def pool_form_token(session: Session, claim_path: str) -> str:
    """Open the pool page as the manager does; return the claim form's CSRF token."""
    status, _location, page = session.request("GET", reverse("accounts:pool"))
    assert status == 200
    assert claim_path in page, "every manager sees the customer in the pool"
    return CSRF_INPUT.search(page).group(1)


def claim_and_follow(session: Session, claim_path: str, token: str):
    """Post the claim; return its status and target and the page the browser shows next."""
    status, location, _text = session.request("POST", claim_path, {"csrfmiddlewaretoken": token})
    if status != 302:
        return status, location, None, ""
    followed, _again, page = session.request("GET", urllib.parse.urlsplit(location).path)
    return status, location, followed, html.unescape(page)


def in_parallel(sessions: list[Session], work, *columns: list) -> list:
    """Run work(session, *row) for every session at the same moment; return the results."""
    barrier = threading.Barrier(len(sessions))
    results: list = [None] * len(sessions)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(sessions[index], *(column[index] for column in columns))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_managers_claiming_at_once_over_http_give_one_owner_and_nineteen_refusals(east):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a file database that the server's processes share")
    managers = [
        UserFactory(username=f"race_am{n:02d}", department=east, roles=[Role.ACCOUNT_MANAGER])
        for n in range(MANAGERS)
    ]
    refusal = zh("Another manager has just claimed this customer.")
    with tempfile.TemporaryDirectory(prefix="crm-claim-race-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with running_server(log_path) as port:
            sessions = [Session(port, signed_in_cookies(user)) for user in managers]
            for round_number in range(ROUNDS):
                customer = CustomerFactory(
                    department=east, primary_manager=None, name=f"公海客户{round_number}"
                )
                claim_path = reverse("accounts:pool_claim", args=[customer.pk])
                paths = [claim_path] * MANAGERS
                tokens = in_parallel(sessions, pool_form_token, paths)
                started = time.monotonic()
                outcomes = in_parallel(sessions, claim_and_follow, paths, tokens)
                elapsed = time.monotonic() - started

                log = log_path.read_text(errors="replace")
                statuses = sorted(status for status, *_rest in outcomes)
                assert statuses == [302] * MANAGERS, (statuses, log[-4000:])
                assert all(followed == 200 for _s, _l, followed, _p in outcomes), log[-4000:]
                customer.refresh_from_db()
                owner = customer.primary_manager
                assert owner in managers
                assert (
                    AssignmentChange.objects.filter(
                        customer=customer, kind=AssignmentKind.CLAIM
                    ).count()
                    == 1
                )
                won = zh("%(name)s is now yours.", name=customer.name)
                for manager, (_status, location, _followed, page) in zip(
                    managers, outcomes, strict=True
                ):
                    if manager == owner:
                        assert location.endswith(customer.get_absolute_url())
                        assert won in page
                    else:
                        assert urllib.parse.urlsplit(location).path == reverse("accounts:pool")
                        assert refusal in page, page[:2000]
                assert elapsed < 30, f"round {round_number} took {elapsed:.1f} s"
    assert Customer.objects.filter(name__startswith="公海客户", primary_manager=None).count() == 0
