"""Time the periodic jobs that the other scripts do not cover, over every customer, with SQL
query counts: complaint deadlines, contract expiry and reminders, receivable reminders, the
pool's return job.

    sqlite3 /tmp/bench.sqlite3 "PRAGMA wal_checkpoint(TRUNCATE)"
    cp /tmp/bench.sqlite3 /tmp/bench_jobs.sqlite3          # a copy: rows are added to it
    DATABASE_URL=sqlite:////tmp/bench_jobs.sqlite3 .venv/bin/python bench/jobs.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_jobs .venv/bin/python bench/jobs.py

On a database filled by `seed_demo --customers N`, it first adds (once) work for every customer
with a primary manager: a complaint past both its deadlines, a resolved complaint due a
follow-up, a contract that ended the day before the run and one ending 5 days after it, the
latter with an overdue instalment and one due on the day. The run day is the next Monday, so the
heads' weekly receivables digest is sent too. Each job then runs in a transaction that is rolled
back, so that a rerun finds the same work. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import time
from decimal import Decimal
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Customer  # noqa: E402
from accounts.services import pool_return_run  # noqa: E402
from complaints.models import Complaint, Status  # noqa: E402
from complaints.services import complaint_check_deadlines  # noqa: E402
from contracts.models import Contract, ContractStatus, PaymentInstalment  # noqa: E402
from contracts.services import contracts_daily_job, receivables_send_reminders  # noqa: E402

BATCH = 5000


def run_day() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=(7 - today.weekday()) % 7)


def build(day: datetime.date) -> int:
    """Add the work (once); return how many customers have it."""
    customers = list(
        Customer.objects.filter(primary_manager__isnull=False).values_list(
            "pk", "department_id", "primary_manager_id"
        )
    )
    if Complaint.objects.filter(reference__startswith="CP-B-").exists():
        return len(customers)
    now = timezone.now()
    received = now - datetime.timedelta(days=10)
    started = time.perf_counter()
    for start in range(0, len(customers), BATCH):
        part = customers[start : start + BATCH]
        complaints, contracts = [], []
        for pk, department_id, manager_id in part:
            common = {
                "customer_id": pk,
                "channel": "phone",
                "category": "delivery",
                "severity": "high",
                "description": "bench",
                "received_at": received,
                "response_due_at": received + datetime.timedelta(hours=4),
                "resolution_due_at": received + datetime.timedelta(days=7),
                "created_by_id": manager_id,
                "assignee_id": manager_id,
            }
            complaints.append(Complaint(reference=f"CP-B-{pk:08d}", **common))
            complaints.append(
                Complaint(
                    reference=f"CP-F-{pk:08d}",
                    status=Status.RESOLVED,
                    follow_up_due_on=day - datetime.timedelta(days=1),
                    **common,
                )
            )
            for kind, end in (
                ("E", day - datetime.timedelta(days=1)),
                ("R", day + datetime.timedelta(days=5)),
            ):
                contracts.append(
                    Contract(
                        number=f"HT-{kind}-{pk:08d}",
                        customer_id=pk,
                        department_id=department_id,
                        owner_id=manager_id,
                        created_by_id=manager_id,
                        title="bench",
                        amount=Decimal("200000"),
                        start_date=day - datetime.timedelta(days=365),
                        end_date=end,
                        status=ContractStatus.ACTIVE,
                    )
                )
        Complaint.objects.bulk_create(complaints)
        Contract.objects.bulk_create(contracts)
    ids = Contract.objects.filter(number__startswith="HT-R-").values_list("pk", flat=True)
    instalments = []
    for contract_id in ids.iterator(chunk_size=BATCH):
        instalments.append(
            PaymentInstalment(
                contract_id=contract_id,
                sequence=1,
                due_date=day - datetime.timedelta(days=30),
                amount=Decimal("100000"),
            )
        )
        instalments.append(
            PaymentInstalment(
                contract_id=contract_id, sequence=2, due_date=day, amount=Decimal("100000")
            )
        )
    PaymentInstalment.objects.bulk_create(instalments, batch_size=BATCH)
    print(f"built the work for {len(customers)} customers in {time.perf_counter() - started:.1f} s")
    return len(customers)


def measure(name: str, job) -> None:
    statements = 0

    # Count with an execute wrapper: CaptureQueriesContext would format every statement with
    # its parameters (thousands of them in a bulk insert), which distorts the timing.
    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(count):
        started, cpu = time.perf_counter(), time.process_time()
        result = job()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        transaction.set_rollback(True)
    print(f"| {name} | {elapsed:.1f} | {cpu:.1f} | {statements} | {result} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run only the jobs whose name contains this")
    args = parser.parse_args()
    day = run_day()
    customers = build(day)
    import_module(settings.ROOT_URLCONF)  # import the URLconf (and every view) before timing
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    load = os.getloadavg()[0]
    print(
        f"\n{connection.vendor}, {customers} customers with work, run day {day}, load {load:.1f}\n"
    )
    print("| job | wall s | CPU s (this process) | SQL queries | result |")
    print("| --- | ---: | ---: | ---: | --- |")
    jobs = {
        "complaint deadlines": lambda: complaint_check_deadlines(now=when),
        "contracts: expiry and reminders": lambda: contracts_daily_job(today=day),
        "receivables: reminders and Monday digest": lambda: receivables_send_reminders(today=day),
        "pool: warnings and return": lambda: pool_return_run(today=day),
    }
    for name, job in jobs.items():
        if not args.only or args.only in name:
            measure(name, job)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\npeak RSS of the process {peak} MB, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
