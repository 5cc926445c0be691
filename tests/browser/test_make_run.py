"""`make run` as a user starts it: demo data, the server, a Celery worker and beat.

This runs the Makefile's own `run` target (demo, then serve) in a process group with a
temporary database, broker folder and port, looks at the customer list as am_east1 in both
languages, then stops the group and checks nothing is left running. The `install` step is
marked up to date (`make -o`): `make test` has just done it.

On the SQLite pass it uses a temporary SQLite file and the filesystem broker, as on a fresh
machine; on the PostgreSQL pass (DATABASE_URL=postgres://…) a temporary PostgreSQL database
and the Redis at REDIS_URL, the production shape.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.utils import translation

from tests.browser.helpers import BASE_DIR, login, screenshot
from tests.helpers import PAGE_LANGUAGE, zh

pytestmark = pytest.mark.browser

LOG = BASE_DIR / "test-artifacts" / "make-run.log"
DEMO_PASSWORD = "browser-demo-2026"
STARTUP_SECONDS = 180
STOP_SECONDS = 30
CJK = re.compile(r"[\u4e00-\u9fff]")
# The variables of the developer's shell or of `make test` that must not leak into the app.
NOT_INHERITED = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "REDIS_URL",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


def customer_count(count: int, language: str) -> str:
    """Return the list's "N customers" line as the template words it in language."""
    with translation.override(language):
        text = translation.ngettext("%(counter)s customer", "%(counter)s customers", count)
    return text % {"counter": count}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def temporary_postgres_database(server_url: str):
    """Create an empty database on the PostgreSQL of server_url; yield its URL; drop it."""
    import psycopg

    parsed = urlparse(server_url)
    name = f"crm_make_run_{uuid.uuid4().hex[:8]}"
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def app_environment(tmp_path: Path):
    """Yield the environment of a fresh app: its own database, broker, media and port."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    port = free_port()
    env.update(
        ADDR=f"127.0.0.1:{port}",
        DEMO_PASSWORD=DEMO_PASSWORD,
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"),
        MEDIA_ROOT=str(tmp_path / "media"),
        PYTHONUNBUFFERED="1",
    )
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        with temporary_postgres_database(database_url) as url:
            env["DATABASE_URL"] = url
            env["REDIS_URL"] = os.environ["REDIS_URL"]
            yield env
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        yield env


def live_processes(group: int) -> list[str]:
    """Return "pid command" of the processes of the group that are still running."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The command name may contain spaces; the fields after it are fixed.
        fields = text.rsplit(")", 1)[1].split()
        state, pgid = fields[0], int(fields[2])
        if pgid == group and state not in ("Z", "X"):
            alive.append(f"{stat.parent.name} {cmdline.strip()}")
    return alive


def stop_group(process: subprocess.Popen) -> list[str]:
    """Send SIGTERM to the process group as Ctrl-C would; return processes left after that."""
    group = process.pid
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return []
    deadline = time.monotonic() + STOP_SECONDS
    left = live_processes(group)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        process.poll()
        left = live_processes(group)
    if left:
        os.killpg(group, signal.SIGKILL)
    process.wait(timeout=10)
    return left


def wait_for(check, what: str, process: subprocess.Popen, seconds: float = STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            pytest.fail(f"make run exited ({process.returncode}) before {what}:\n{log_tail()}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}:\n{log_tail()}")


def log_tail(lines: int = 60) -> str:
    return "\n".join(LOG.read_text(errors="replace").splitlines()[-lines:])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def manage(env: dict, code: str) -> str:
    """Run Python code in `manage.py shell` against the app's database; return its output."""
    result = subprocess.run(
        [str(BASE_DIR / ".venv/bin/python"), "manage.py", "shell", "--no-imports", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def running_app(tmp_path):
    """Start `make run` in its own process group; yield (base URL, env); stop it cleanly."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed", pytrace=False)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with app_environment(tmp_path) as env, LOG.open("w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        base_url = f"http://{env['ADDR']}"
        try:
            wait_for(lambda: answers(f"{base_url}/healthz"), "the server to answer", process)
            yield base_url, env
        finally:
            left = stop_group(process)
        assert not left, f"still running {STOP_SECONDS} s after SIGTERM: {left}"
    text = LOG.read_text(errors="replace")
    assert "Warm shutdown" in text, "the worker did not shut down cleanly"


def test_make_run_serves_the_demo_to_am_east1(running_app, page):
    base_url, env = running_app
    process_log = LOG.read_text
    # The worker and beat started and the worker answers through the broker.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        re.search(r"worker@\S+ ready\.", process_log()) and "beat: Starting..." in process_log()
    ):
        time.sleep(0.5)
    assert re.search(r"worker@\S+ ready\.", process_log()), log_tail()
    assert "beat: Starting..." in process_log(), log_tail()
    # The demo's log-in address is the one served, not a fixed port.
    assert f"Log in at {base_url}/login/ as:" in process_log(), log_tail()
    ping = subprocess.run(
        [str(BASE_DIR / ".venv/bin/celery"), "-A", "config", "inspect", "ping", "--timeout", "10"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "pong" in ping.stdout, ping.stdout + ping.stderr

    visible = int(
        manage(
            env,
            "from accounts.models import Customer, User; "
            "print(Customer.objects.visible_to(User.objects.get(username='am_east1')).count())",
        )
    )
    assert visible > 0

    page.goto(f"{base_url}/login/")
    page.locator("#id_username").wait_for()
    screenshot(page, "make-run-01-login-zh")
    login(page, base_url, "am_east1", DEMO_PASSWORD)

    page.goto(f"{base_url}/customers/")
    assert page.locator("h1").inner_text() == zh("Customers")
    header = page.locator(".card-header").first.inner_text()
    assert customer_count(visible, PAGE_LANGUAGE) in header
    names = page.locator("[data-testid=customer-table] tbody tr td:first-child a")
    assert names.count() == min(visible, 25)
    for name in names.all_inner_texts():
        assert CJK.search(name), f"not a Chinese name: {name!r}"
    screenshot(page, "make-run-02-customer-list-zh")

    first_name = names.first.inner_text()
    names.first.click()
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    assert first_name in page.locator("h1").inner_text()
    assert page.get_by_role("link", name=zh("Profile"), exact=True).is_visible()
    screenshot(page, "make-run-03-customer-detail-zh")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Profile", exact=True).is_visible()
    assert first_name in page.locator("h1").inner_text()
    screenshot(page, "make-run-04-customer-detail-en")

    page.goto(f"{base_url}/customers/")
    assert page.locator("h1").inner_text() == "Customers"
    assert customer_count(visible, "en") in page.locator(".card-header").first.inner_text()
    assert page.get_by_role("columnheader", name="Primary manager").is_visible()
    screenshot(page, "make-run-05-customer-list-en")
