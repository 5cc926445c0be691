"""`make prod-smoke`: run the production shape on this machine and check it end to end.

Starts gunicorn (2 workers), one Celery worker and one Celery beat with the production settings
against the local PostgreSQL (a database created and dropped here) and Redis (one database
number, flushed before and after), then checks that:

1. /healthz answers 200 with the database and the broker "ok";
2. a user logs in (CSRF and all) and opens the customer list and a customer page through
   gunicorn, and the security headers are there;
3. beat's schedule reaches the worker (the heartbeat job records itself);
4. a job sent through Redis from a Django process runs on the worker.

Everything is stopped at the end (process groups, no orphans); the exit status is 0 only if
every check passed. Usage: python -m tests.prod.smoke [--keep-logs]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("SMOKE_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("SMOKE_DB_NAME", "crm_smoke")
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/14")
USERNAME = "am_east1"


class SmokeFailure(Exception):
    pass


def log(message: str) -> None:
    print(f"[prod-smoke] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check, timeout: float, interval: float = 0.5):
    """Call check() until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # retried until the deadline
            last_error = error
        time.sleep(interval)
    raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what} ({last_error!r})")


class Browser:
    """A tiny HTTP client with a cookie jar that, like a browser behind TLS, keeps Secure cookies.

    Requests carry X-Forwarded-Proto: https as the reverse proxy in front of gunicorn would, so
    Django applies its HTTPS rules (secure cookies, HSTS, strict CSRF origin checks).
    """

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method: str, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("Accept-Language", "en")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("Origin", "https://" + self.base.split("://", 1)[1])
            request.add_header("Referer", "https://" + self.base.split("://", 1)[1] + path)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        return response.status, response.headers, text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Smoke:
    def __init__(self, keep_logs: bool):
        self.keep_logs = keep_logs
        self.tmp = Path(tempfile.mkdtemp(prefix="crm-prod-smoke-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(12)
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
            "REDIS_URL": REDIS_URL,
            "MEDIA_ROOT": str(self.tmp / "media"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "CELERY_HEARTBEAT_SECONDS": "2",
            "CELERY_RESEND_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        }

    # -- set-up and tear-down ---------------------------------------------------------------
    def reset_services(self, *, create: bool) -> None:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            if create:
                pg.execute(f'CREATE DATABASE "{DB_NAME}"')
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).flushdb()

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            command = " ".join(args)
            raise SmokeFailure(f"manage.py {command} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self, name: str, *command: str) -> None:
        logfile = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, children included
        )
        log(f"started {name} (pid {self.processes[name].pid})")

    def stop_all(self) -> list[str]:
        """Stop every process group (TERM, then KILL); return the names that left orphans."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        orphans = []
        for name, process in self.processes.items():
            if group_alive(process.pid):
                orphans.append(name)
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        return orphans

    def print_logs(self) -> None:
        for name in self.processes:
            path = self.tmp / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            print(f"----- {name}.log (last 60 lines) -----")
            print("\n".join(text.splitlines()[-60:]))

    # -- checks ---------------------------------------------------------------------------
    def healthz(self) -> dict:
        status, headers, text = Browser(self.base).request("GET", "/healthz")
        body = json.loads(text)
        if status != 200 or body.get("database") != "ok" or body.get("broker") != "ok":
            raise SmokeFailure(f"/healthz answered {status} {body}")
        return body

    def check_login_and_customer_page(self) -> None:
        browser = Browser(self.base)
        status, _, text = browser.request("GET", "/login/")
        if status != 200 or "csrftoken" not in browser.cookies:
            raise SmokeFailure(f"GET /login/ answered {status} without a CSRF cookie")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
        credentials = {"username": USERNAME, "password": self.password}
        status, headers, _ = browser.request(
            "POST", "/login/", {"csrfmiddlewaretoken": token, **credentials}
        )
        if status != 302 or "sessionid" not in browser.cookies:
            raise SmokeFailure(f"log-in answered {status}, cookies {sorted(browser.cookies)}")
        status, headers, text = browser.request("GET", "/customers/")
        if status != 200:
            raise SmokeFailure(f"/customers/ answered {status}")
        for header in ("Content-Security-Policy", "Strict-Transport-Security"):
            if not headers.get(header):
                raise SmokeFailure(f"/customers/ lacks the {header} header")
        if "'unsafe-inline'" in headers["Content-Security-Policy"]:
            raise SmokeFailure("the CSP allows inline script")
        ids = re.findall(r'href="/customers/(\d+)/"', text)
        if not ids:
            raise SmokeFailure(f"{USERNAME} sees no customer on /customers/")
        status, _, text = browser.request("GET", f"/customers/{ids[0]}/")
        if status != 200:
            raise SmokeFailure(f"/customers/{ids[0]}/ answered {status}")
        self.check_page_cache(browser, f"/customers/{ids[0]}/")
        status, _, _ = browser.request("GET", "/static/js/print.js")
        if status != 200:
            raise SmokeFailure(f"whitenoise did not serve a static file ({status})")
        log(f"log-in as {USERNAME}, customer list and /customers/{ids[0]}/: ok")

    def check_page_cache(self, browser: Browser, path: str) -> None:
        """A page seen again comes from the cache (Redis), and a change made by another
        process (here a management command) is on the next page, whichever worker serves it."""
        status, headers, _ = browser.request("GET", path)
        if status != 200 or headers.get("X-Page-Cache") != "hit":
            raise SmokeFailure(f"{path} seen again was not served from the page cache")
        pk = int(path.strip("/").split("/")[-1])
        self.manage(
            "shell",
            "-c",
            "from accounts.models import Customer; "
            f"Customer.objects.filter(pk={pk}).update(name='烟测改名')",
        )
        status, headers, text = browser.request("GET", path)
        if status != 200 or "烟测改名" not in text or headers.get("X-Page-Cache"):
            raise SmokeFailure(f"{path} after a change elsewhere: a stale page ({status})")
        for _ in range(3):  # either gunicorn worker: the new page, from the cache or not
            status, headers, text = browser.request("GET", path)
            if status != 200 or "烟测改名" not in text:
                raise SmokeFailure(f"{path} seen again after a change: a stale page ({status})")
        log(f"page cache: {path} served again, and rendered anew after a change: ok")

    def heartbeat_at(self, name: str):
        with psycopg.connect(f"{PG_SERVER}/{DB_NAME}", connect_timeout=5) as pg:
            row = pg.execute(
                "SELECT beat_at FROM dashboard_heartbeat WHERE name = %s", [name]
            ).fetchone()
        return row[0] if row else None

    def check_beat_reaches_worker(self) -> None:
        first = wait_for("beat's heartbeat job", lambda: self.heartbeat_at("beat"), timeout=60)
        wait_for(
            "a second heartbeat", lambda: (self.heartbeat_at("beat") or first) > first, timeout=30
        )
        log("beat's schedule reaches the worker: ok")

    def check_job_through_redis(self) -> None:
        name = f"smoke-{uuid.uuid4().hex[:12]}"
        self.manage(
            "shell",
            "-c",
            "from config.celery import send_or_record; "
            f"assert send_or_record('dashboard.tasks.heartbeat_task', kwargs={{'name': '{name}'}})",
        )
        wait_for("the job sent through Redis", lambda: self.heartbeat_at(name), timeout=30)
        log("a job sent through Redis ran on the worker: ok")

    def check_job_renews_page_cache(self) -> None:
        """A job's writes on the worker reach the web processes' page cache."""
        version = self.page_cache_version()
        self.manage(
            "shell",
            "-c",
            "from config.celery import send_or_record; "
            "assert send_or_record('dashboard.tasks.summaries_refresh_task')",
        )
        wait_for(
            "the summaries job's writes to renew the page cache's data version",
            lambda: self.page_cache_version() != version,
            timeout=30,
        )
        log("the worker's writes renewed the page cache's data version: ok")

    @staticmethod
    def page_cache_version() -> bytes | None:
        # The key as Django's Redis cache writes it: KEY_PREFIX (crm), key version 1.
        return redis.Redis.from_url(REDIS_URL).get("crm:1:page-cache:data-version")

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> int:
        started = time.monotonic()
        failed = False
        try:
            self.reset_services(create=True)
            self.manage("migrate", "--noinput")
            self.manage("collectstatic", "--noinput")
            # --password=…: a token starting with "-" would read as an option.
            self.manage("seed_demo", "--force", "--customers", "20", f"--password={self.password}")
            log("database migrated and seeded (20 customers)")
            self.start(
                "gunicorn",
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--access-logfile",
                "-",
            )
            self.start(
                "worker",
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                f"smoke-{self.port}@%h",
                "--without-gossip",
                "--without-mingle",
            )
            self.start(
                "beat",
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp / "celerybeat-schedule"),
            )
            body = wait_for("/healthz 200", self.healthz, timeout=60)
            log(f"/healthz: {body}")
            self.check_login_and_customer_page()
            self.check_beat_reaches_worker()
            self.check_job_through_redis()
            self.check_job_renews_page_cache()
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise SmokeFailure(f"{name} exited early with status {process.returncode}")
        except (SmokeFailure, Exception) as error:
            failed = True
            log(f"FAILED: {error}")
        finally:
            orphans = self.stop_all()
            if orphans:
                failed = True
                log(f"FAILED: processes left behind by {', '.join(orphans)} (killed)")
            else:
                log("all processes stopped, none left behind")
            if failed:
                self.print_logs()
            try:
                self.reset_services(create=False)
            except Exception as error:
                log(f"could not drop {DB_NAME}: {error}")
            if not self.keep_logs:
                shutil.rmtree(self.tmp, ignore_errors=True)
            else:
                log(f"logs kept in {self.tmp}")
        log(f"{'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
        return 1 if failed else 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    sys.exit(Smoke(keep_logs="--keep-logs" in sys.argv).run())
