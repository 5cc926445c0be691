"""Time the visits daily job over many customers and count its SQL queries.

    .venv/bin/python bench/visits_reminders.py [--customers 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_visits_bench .venv/bin/python bench/...

Uses a fresh database (SQLite /tmp/visits-bench.sqlite3 unless DATABASE_URL is set), migrated
and filled with bulk-built customers spread over 40 managers and the four tiers, created over the
last 400 days so that a realistic share of visits is due or overdue. Then it times the set-based
plan regeneration, the reminder job (twice: the second run must send nothing), and the whole
daily job, printing seconds and query counts as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/visits-bench.sqlite3")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Customer, CustomerStatus, Department, User  # noqa: E402
from notifications.models import Notification  # noqa: E402
from visits.models import PlannedVisit, VisitReminder  # noqa: E402
from visits.services import (  # noqa: E402
    visit_plan_regenerate,
    visit_reminders_send,
    visits_daily_run,
)


def fresh_database() -> None:
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", verbosity=0)


def build(customers: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    department = Department.objects.create(name="华东大客户部", code="east")
    managers = User.objects.bulk_create(
        [
            User(username=f"am{n:02d}", email=f"am{n:02d}@example.com", department=department)
            for n in range(40)
        ]
    )
    now = timezone.now()
    batch = []
    for n in range(customers):
        batch.append(
            Customer(
                name=f"客户{n:06d}有限公司",
                department=department,
                status=CustomerStatus.ACTIVE,
                tier=rng.choice("AABBBCCCDD"),
                primary_manager=managers[n % len(managers)],
                created_at=now - timedelta(days=rng.randint(0, 400)),
            )
        )
        if len(batch) == 5000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)


def timed(label: str, function, rows: list) -> object:
    mail.outbox = []
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - start
    rows.append((label, seconds, len(queries), result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the customers and plans of the last run; forget its reminders",
    )
    args = parser.parse_args()
    rows: list = []
    today = timezone.localdate()
    if args.reuse:
        VisitReminder.objects.all().delete()
        Notification.objects.all().delete()
        args.customers = Customer.objects.count()
    else:
        fresh_database()
        start = time.perf_counter()
        build(args.customers)
        print(f"Built {args.customers} customers in {time.perf_counter() - start:.1f} s")
        timed("plan regeneration (all customers, first time)", visit_plan_regenerate, rows)
    timed("plan regeneration again (nothing to change)", visit_plan_regenerate, rows)
    timed("reminder job", lambda: visit_reminders_send(today=today), rows)
    emails = len(mail.outbox)
    timed("reminder job again, same day", lambda: visit_reminders_send(today=today), rows)
    timed(
        "whole daily job, next day",
        lambda: visits_daily_run(today=today + timedelta(days=1)),
        rows,
    )
    print()
    print(f"Database: {connection.vendor}; {args.customers:,} active customers, 40 managers;")
    print(
        f"{PlannedVisit.objects.count():,} planned visits, "
        f"{VisitReminder.objects.count():,} reminders, "
        f"{Notification.objects.count():,} notifications; first run sent {emails} e-mails."
    )
    print()
    print("| step | seconds | SQL queries | result |")
    print("| --- | ---: | ---: | --- |")
    for label, seconds, queries, result in rows:
        print(f"| {label} | {seconds:.2f} | {queries} | {result} |")


if __name__ == "__main__":
    main()
