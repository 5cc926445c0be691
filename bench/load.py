"""Load test: gunicorn with the production settings on PostgreSQL under wrk, 50 signed-in users.

    .venv/bin/python bench/load.py [--duration 60] [--connections 50] [--workers 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_make .venv/bin/python bench/load.py

Needs wrk (`apt-get install wrk`) and a database already filled by
`manage.py seed_demo --customers 100000` (default: the shared postgres://…/crm_bench). The load
only GETs pages; the one thing written is one session per simulated user, created here with
Django's SessionStore under the same settings (so no log-in POST is needed), renewed by the
idle-session middleware at most once a minute, and deleted at the end.

gunicorn runs `config.settings.production` (DEBUG off, static files collected and served by
whitenoise) on the loopback interface. wrk runs one thread per connection, so each connection
is one user with its own session cookie, going round that user's pages: home page, customer
list pages, customer details, notifications, complaints, contracts and a report. The script
prints throughput, median, 95th and 99th percentile latency and errors (wrk's Lua `done()`);
the CPU time gunicorn and its PostgreSQL backends spent per request, and so the throughput two
otherwise idle cores could give (a figure that holds on a busy machine, unlike the latency);
then the server time per page from gunicorn's access log. The exit status is 0 only if
the load targets (TARGET_RPS, TARGET_P95_MS) are met. Options: --worker-class/--threads
(gunicorn), --warmup, --only (a part of the mix, e.g. --only "customer list"), --per-page
SECONDS (then each page alone: its CPU cost, i.e. where the time goes), --keep-logs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
WRK_INSTALL_HINT = "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu)."
RESULT_MARK = "WRK_RESULT "
# The load targets: requests per second, and the 95th-percentile latency under that load.
TARGET_RPS = 200
TARGET_P95_MS = 500

# How many of the simulated users have each role; a role with fewer users than its share
# reuses them (each still gets its own session), a role without users gives its share away.
ROLE_SHARES = {"account_manager": 40, "department_head": 6, "finance": 2, "executive": 2}


@dataclasses.dataclass
class SimulatedUser:
    username: str
    role: str
    session_key: str = ""
    paths: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (label, path)
    csrf_cookie: str = ""  # as a browser keeps it after its first page


def choose_users(users_by_role: dict[str, list[str]], total: int) -> list[tuple[str, str]]:
    """Return `total` (role, username) pairs following ROLE_SHARES, distinct where possible."""
    shares = {role: share for role, share in ROLE_SHARES.items() if users_by_role.get(role)}
    if not shares:
        raise ValueError("no user holds any of the roles " + ", ".join(ROLE_SHARES))
    weight = sum(shares.values())
    counts = {role: total * share // weight for role, share in shares.items()}
    for role in list(shares)[: total - sum(counts.values())]:  # the remainder, first roles first
        counts[role] += 1
    chosen = []
    for role, count in counts.items():
        names = users_by_role[role]
        chosen += [(role, names[index % len(names)]) for index in range(count)]
    return chosen


def page_mix(role: str, customer_ids: list[int]) -> list[tuple[str, str]]:
    """Return one round of a user's pages as (label, path), the way people use the CRM:
    the list and customer pages most, the home page often, the rest now and then."""
    details = [("customer detail", f"/customers/{pk}/") for pk in customer_ids]
    report = "/reports/tiers/" if role != "account_manager" else "/reports/visits/"
    return [
        ("home page", "/"),
        ("customer list, page 1", "/customers/"),
        *details[:1],
        ("customer list, page 2", "/customers/?page=2"),
        *details[1:2],
        ("notifications", "/notifications/"),
        ("customer list, page 1", "/customers/"),
        *details[2:],
        ("complaint list", "/complaints/"),
        ("contract list", "/contracts/"),
        ("home page", "/"),
        ("customer list, page 3", "/customers/?page=3"),
        ("report", report),
    ]


def restrict(users: list[SimulatedUser], wanted: list[str]) -> list[SimulatedUser]:
    """Copies of the users keeping only the pages whose label contains one of `wanted`."""
    return [
        dataclasses.replace(
            user,
            paths=[(label, path) for label, path in user.paths if any(w in label for w in wanted)],
        )
        for user in users
    ]


def lua_string(text: str) -> str:
    """Quote text for Lua: a JSON string of ASCII is a valid Lua string literal (LuaJIT does
    not read JSON's \\u escapes, hence ASCII only; URLs are percent-encoded anyway)."""
    if not text.isascii():
        raise ValueError(f"not ASCII: {text!r}")
    return json.dumps(text)


def lua_script(users: list[SimulatedUser], cookie_name: str, headers: dict[str, str]) -> str:
    """Return the wrk script: thread n is user n (one connection per thread, so one session
    per connection), going round its paths from a staggered start; non-2xx answers counted."""
    entries = []
    for user in users:
        if not user.paths:
            continue  # e.g. a manager without customers when only details are loaded
        paths = ", ".join(lua_string(path) for _label, path in user.paths)
        cookie = lua_string(cookie_header(user, cookie_name))
        entries.append(f"  {{cookie = {cookie}, paths = {{{paths}}}}},")
    header_lines = "".join(
        f"    [{lua_string(name)}] = {lua_string(value)},\n" for name, value in headers.items()
    )
    return f"""-- Generated by bench/load.py: one simulated user per wrk thread.
local users = {{
{chr(10).join(entries)}
}}
local threads = {{}}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  local user = users[((id - 1) % #users) + 1]
  local headers = {{
{header_lines}    ["Cookie"] = user.cookie,
  }}
  prepared = {{}}
  for i, path in ipairs(user.paths) do
    prepared[i] = wrk.format("GET", path, headers)
  end
  position = id % #prepared
  non2xx = 0
end

function request()
  position = (position % #prepared) + 1
  return prepared[position]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    '{RESULT_MARK}{{"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.0f}}\\n',
    summary.requests, summary.duration, summary.bytes, non2xx_total,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def parse_wrk_result(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
            result["rps"] = result["requests"] / max(1e-6, result["duration_us"] / 1e6)
            result["socket_errors"] = sum(
                result[key] for key in ("connect", "read", "write", "timeout")
            )
            return result
    raise RuntimeError(f"wrk printed no result:\n{output}")


ACCESS_LOG_FORMAT = "%(U)s\t%(q)s\t%(s)s\t%(D)s"


def server_times(
    access_log: str, labels: dict[str, str]
) -> list[tuple[str, int, float, float, int]]:
    """Return (label, requests, median ms, p95 ms, non-2xx) per page from gunicorn's access log
    (format ACCESS_LOG_FORMAT), slowest median first."""
    per_label: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for line in access_log.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        path = parts[0] + (f"?{parts[1]}" if parts[1] and parts[1] != "-" else "")
        label = labels.get(path, path)
        per_label.setdefault(label, []).append(int(parts[3]) / 1000)
        if not parts[2].startswith("2"):
            failures[label] = failures.get(label, 0) + 1
    rows = []
    for label, times in per_label.items():
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        rows.append((label, len(times), statistics.median(times), p95, failures.get(label, 0)))
    return sorted(rows, key=lambda row: -row[2])


# --- Django side: users, customers, sessions ---------------------------------------------------


def production_env(database_url: str, redis_url: str, static_root: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        # Production fails fast (2 s) on an unreachable database; on this shared machine a
        # busy server can take longer to accept the workers' first connections.
        "DATABASE_CONNECT_TIMEOUT": "10",
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(static_root),
        "PYTHONUNBUFFERED": "1",
    }


def simulated_users(total: int) -> list[SimulatedUser]:
    """Choose the users and give each the pages of up to three customers they may see."""
    from accounts.models import Customer, User

    users_by_role: dict[str, list[str]] = {}
    for username, role in (
        User.objects.filter(is_active=True, groups__name__in=list(ROLE_SHARES))
        .order_by("pk")
        .values_list("username", "groups__name")
    ):
        users_by_role.setdefault(role, []).append(username)
    users = [SimulatedUser(username, role) for role, username in choose_users(users_by_role, total)]
    by_name = User.objects.in_bulk({user.username for user in users}, field_name="username")
    seen: dict[str, int] = {}
    for user in users:
        # A user simulated several times looks at different customers each time.
        offset = 3 * seen.get(user.username, 0)
        seen[user.username] = seen.get(user.username, 0) + 1
        visible = Customer.objects.visible_to(by_name[user.username]).order_by("pk")
        ids = list(visible.values_list("pk", flat=True)[offset : offset + 3])
        user.paths = page_mix(user.role, ids)
    return users


def cookie_header(user: SimulatedUser, session_cookie_name: str) -> str:
    from django.conf import settings

    return (
        f"{session_cookie_name}={user.session_key}; {settings.CSRF_COOKIE_NAME}={user.csrf_cookie}"
    )


def create_sessions(users: list[SimulatedUser]) -> None:
    """Give every simulated user a signed-in session, as django.contrib.auth.login would, and
    the CSRF cookie the first page gives a browser."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from config.middleware import LAST_RENEWED_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore
    accounts = User.objects.in_bulk({user.username for user in users}, field_name="username")
    for user in users:
        account = accounts[user.username]
        session = store()
        session[SESSION_KEY] = account._meta.pk.value_to_string(account)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = account.get_session_auth_hash()
        session[LAST_RENEWED_KEY] = int(time.time())
        session.create()
        user.session_key = session.session_key
        user.csrf_cookie = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)


def delete_sessions(users: list[SimulatedUser]) -> None:
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for user in users:
        store(user.session_key).delete()


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_stats() -> dict[int, tuple[int, float]]:
    """Return {pid: (process group, user + system CPU seconds)} of every process (/proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # After the command: state, ppid, pgrp, …, utime (14th field), stime (15th).
            stats[int(entry.name)] = (int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks)
    return stats


def with_application_name(database_url: str, name: str) -> str:
    """Tag the connections so that their PostgreSQL backends can be found for their CPU time."""
    return f"{database_url}{'&' if '?' in database_url else '?'}application_name={name}"


class CpuSampler(threading.Thread):
    """Sample, every second, the CPU seconds of the gunicorn process group and of the
    PostgreSQL backends of its connections (tagged with an application name), so that a
    process ending during the run (a connection closed after CONN_MAX_AGE) still counts.
    PostgreSQL must run on this machine for its figure."""

    def __init__(self, server_group: int, database_url: str, application_name: str):
        super().__init__(daemon=True)
        self.server_group = server_group
        self.database_url = database_url
        self.application_name = application_name
        self.stopped = threading.Event()
        self.ready = threading.Event()  # the baseline is taken
        self.baseline: dict[int, float] = {}
        self.latest: dict[int, tuple[str, float]] = {}

    def sample(self, pg, *, first: bool = False) -> None:
        query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        backends = {row[0] for row in pg.execute(query, [self.application_name])}
        for pid, (group, cpu) in process_stats().items():
            if group == self.server_group or pid in backends:
                # A process born during the run spent all its CPU time in it.
                self.baseline.setdefault(pid, cpu if first else 0.0)
                self.latest[pid] = ("gunicorn" if group == self.server_group else "PostgreSQL", cpu)

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as pg:
            self.sample(pg, first=True)
            self.ready.set()
            while not self.stopped.wait(1):
                self.sample(pg)
            self.sample(pg)

    def totals(self) -> dict[str, float]:
        self.stopped.set()
        self.join()
        totals = {"gunicorn": 0.0, "PostgreSQL": 0.0}
        for pid, (role, cpu) in self.latest.items():
            totals[role] += cpu - self.baseline[pid]
        return totals


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited while starting")
        with contextlib.suppress(OSError), urllib.request.urlopen(base + "/login/") as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


def check_pages(base: str, users: list[SimulatedUser], headers: dict, cookie_name: str) -> list:
    """Request one round of pages of the first user of each role; return the failures."""
    failures = []
    checked_roles = set()
    for user in users:
        if user.role in checked_roles:
            continue
        checked_roles.add(user.role)
        for _label, path in user.paths:
            request = urllib.request.Request(base + path, headers=headers)
            request.add_header("Cookie", cookie_header(user, cookie_name))
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    status = response.status
                    final_path = response.url.removeprefix(base)
            except urllib.error.HTTPError as error:
                status, final_path = error.code, path
            if status != 200 or final_path != path:
                failures.append(f"{user.username} {path}: {status} {final_path}")
    return failures


def run_wrk(base: str, script: Path, connections: int, seconds: int) -> dict:
    command = [
        "wrk",
        f"--threads={connections}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=30s",
        f"--script={script}",
        base,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk_result(output)


def machine_line(load_before: tuple, load_after: tuple) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}, {os.cpu_count()} CPUs; load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.2f}' for x in load_before)}, after "
        f"{'/'.join(f'{x:.2f}' for x in load_after)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of load before")
    parser.add_argument("--connections", type=int, default=50, help="= simulated users")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1, help="per worker (gthread)")
    parser.add_argument(
        "--only", help="load only the pages whose label contains one of these (comma-separated)"
    )
    parser.add_argument(
        "--per-page",
        type=int,
        default=0,
        metavar="SECONDS",
        help="then load each page alone this long and report its CPU cost",
    )
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        help="PAGE_CACHE_SECONDS for gunicorn (default: the production setting's; 0 = off)",
    )
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=0,
        help="a no-op UPDATE this often during the run (each one empties the page cache)",
    )
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        print(WRK_INSTALL_HINT, file=sys.stderr)
        return 2
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        print("The load test runs on PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="crm-load-"))
    env = production_env(
        database_url, os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL), tmp / "static"
    )
    if args.page_cache_seconds is not None:
        env["PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    os.environ.update(env)  # the sessions must be signed with gunicorn's secret key
    application_name = f"crm-load-{os.getpid()}"
    env["DATABASE_URL"] = with_application_name(database_url, application_name)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from accounts.models import Customer

    customers = Customer.objects.count()
    if not customers:
        print(f"No customers in {database_url}: run seed_demo first.", file=sys.stderr)
        return 2
    call_command("collectstatic", "--noinput", verbosity=0)
    users = simulated_users(args.connections)
    if args.only:
        users = restrict(users, args.only.split(","))
        if not any(user.paths for user in users):
            print(f"No page of the mix matches --only {args.only!r}.", file=sys.stderr)
            return 2
    create_sessions(users)
    labels = {path: label for user in users for label, path in user.paths}
    headers = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
    script = tmp / "mix.lua"
    script.write_text(lua_script(users, settings.SESSION_COOKIE_NAME, headers))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    access_log = tmp / "access.log"
    gunicorn_command = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        f"--workers={args.workers}",
        f"--worker-class={args.worker_class}",
        f"--threads={args.threads}",
        f"--bind=127.0.0.1:{port}",
        "--timeout=120",
        f"--access-logfile={access_log}",
        f"--access-logformat={ACCESS_LOG_FORMAT}",
        f"--error-logfile={tmp / 'error.log'}",
    ]
    server = subprocess.Popen(gunicorn_command, cwd=ROOT, env=env, start_new_session=True)
    status = 1
    try:
        wait_until_up(base, server)
        failures = check_pages(base, users, headers, settings.SESSION_COOKIE_NAME)
        if failures:
            print("Pages that do not answer 200 to their user:\n  " + "\n  ".join(failures))
            return 1
        if args.warmup:
            run_wrk(base, script, args.connections, args.warmup)
        access_log.write_text("")  # gunicorn appends: the log now holds the measured run only
        load_before = os.getloadavg()
        sampler = CpuSampler(server.pid, database_url, application_name)
        with writes_during_the_run(args.writes_per_second):
            result, cpu = measured_run(base, script, args.connections, args.duration, sampler)
        load_after = os.getloadavg()
        report(args, result, customers, database_url, cpu, (load_before, load_after))
        rows = server_times(access_log.read_text(), labels)
        print("\nServer time per page (gunicorn access log: from request read to response sent)\n")
        print("| page | requests | median ms | p95 ms | non-2xx |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, count, median, p95, failed in rows:
            print(f"| {label} | {count} | {median:.1f} | {p95:.1f} | {failed} |")
        if args.per_page:
            per_page = tmp / "page.lua"
            print(
                f"\nEach page alone, {args.per_page} s with {args.connections} connections: "
                "its CPU cost and what two otherwise idle cores could serve of it\n"
            )
            print(
                "| page | req/s here | gunicorn CPU ms | PostgreSQL CPU ms | req/s on idle cores |"
            )
            print("| --- | ---: | ---: | ---: | ---: |")
            for label in dict.fromkeys(labels.values()):
                alone = restrict(users, [label])
                per_page.write_text(lua_script(alone, settings.SESSION_COOKIE_NAME, headers))
                # wrk leaves requests queued when it stops: let the workers finish them first.
                wait_until_up(base, server, timeout=600)
                sampler = CpuSampler(server.pid, database_url, application_name)
                page, cpu = measured_run(base, per_page, args.connections, args.per_page, sampler)
                done = max(1, page["requests"])
                serving = cpu["gunicorn"] + cpu["PostgreSQL"]
                capacity = os.cpu_count() * done / serving if serving else 0
                print(
                    f"| {label} | {page['rps']:.1f} | {1000 * cpu['gunicorn'] / done:.1f} | "
                    f"{1000 * cpu['PostgreSQL'] / done:.1f} | {capacity:.0f} |"
                )
        met = (
            result["rps"] >= TARGET_RPS
            and result["p95_us"] / 1000 < TARGET_P95_MS
            and result["non2xx"] + result["socket_errors"] == 0
        )
        status = 0 if met else 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        delete_sessions(users)
        if args.keep_logs:
            print(f"\nLogs and the wrk script are in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


def measured_run(
    base: str, script: Path, connections: int, seconds: int, sampler: CpuSampler
) -> tuple[dict, dict[str, float]]:
    """Run wrk; return its result and the CPU seconds of gunicorn, PostgreSQL and wrk."""
    sampler.start()
    sampler.ready.wait(timeout=30)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(base, script, connections, seconds)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sampler.totals()
    cpu["wrk"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result, cpu


@contextlib.contextmanager
def writes_during_the_run(per_second: float):
    """Write to the database `per_second` times a second while the load runs, as people
    saving forms elsewhere would: each write renews the page cache's data version, so every
    page is rendered again on its next request. The write changes nothing (name = name)."""
    if not per_second:
        yield
        return
    from django.db import connection
    from django.db.models import F

    from accounts.models import Customer

    stop = threading.Event()
    customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first()

    def write() -> None:
        try:
            while not stop.wait(1 / per_second):
                Customer.objects.filter(pk=customer).update(name=F("name"))
        finally:
            connection.close()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def page_cache_line() -> str:
    from django.conf import settings

    seconds = settings.PAGE_CACHE_SECONDS
    return f"on, entries kept {seconds} s" if seconds else "off"


def report(args, result: dict, customers: int, database_url: str, cpu: dict, loads) -> None:
    database = database_url.rsplit("/", 1)[1]
    print(
        f"Load: gunicorn {args.workers} workers ({args.worker_class}, {args.threads} thread"
        f"{'s' if args.threads > 1 else ''}) with the production settings on PostgreSQL "
        f"`{database}` ({customers:,} customers); wrk on loopback, {args.connections} "
        f"connections = {args.connections} signed-in users, {args.duration} s after "
        f"{args.warmup} s of warm-up. Page cache (config.page_cache): "
        f"{page_cache_line()}"
        + (
            f"; {args.writes_per_second:g} writes a second during the run"
            if args.writes_per_second
            else ""
        )
        + ".\n"
    )
    print(f"Machine: {machine_line(*loads)}.\n")
    ok_rps = "met" if result["rps"] >= TARGET_RPS else "not met"
    ok_p95 = "met" if result["p95_us"] / 1000 < TARGET_P95_MS else "not met"
    errors = result["non2xx"] + result["socket_errors"]
    print("| figure | measured | target | status |")
    print("| --- | ---: | ---: | --- |")
    print(f"| throughput | {result['rps']:.1f} req/s | ≥ {TARGET_RPS} req/s | {ok_rps} |")
    print(f"| median latency | {result['p50_us'] / 1000:.0f} ms | | |")
    print(
        f"| 95th percentile | {result['p95_us'] / 1000:.0f} ms | < {TARGET_P95_MS} ms | {ok_p95} |"
    )
    print(f"| 99th percentile | {result['p99_us'] / 1000:.0f} ms | | |")
    print(
        f"| errors | {errors} ({result['non2xx']} non-2xx, {result['socket_errors']} socket) "
        f"of {result['requests']:,} | 0 | {'met' if errors == 0 else 'not met'} |"
    )
    seconds = result["duration_us"] / 1e6
    print("\nCPU used during the run, and what it costs per request:\n")
    print("| process | cores busy | CPU ms per request |")
    print("| --- | ---: | ---: |")
    for name, used in cpu.items():
        print(f"| {name} | {used / seconds:.2f} | {1000 * used / max(1, result['requests']):.1f} |")
    serving = cpu["gunicorn"] + cpu["PostgreSQL"]
    if serving and result["requests"]:
        print(
            f"\nServing one request of this mix costs {1000 * serving / result['requests']:.1f} ms "
            f"of CPU (gunicorn + PostgreSQL): {os.cpu_count()} otherwise idle cores could serve "
            f"about {os.cpu_count() * result['requests'] / serving:.0f} requests/s."
        )


if __name__ == "__main__":
    sys.exit(main())
