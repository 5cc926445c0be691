"""Benchmark the quarterly re-grading: set-based `manage.py regrade` against a naive loop.

Builds (once) 100,000 key accounts with 2,000,000 transactions and 7 assessments each on a
scratch database, then in the same run:
  1. times `manage.py regrade --period <P>` in a child process (wall time and the child's peak
     RSS from getrusage(RUSAGE_CHILDREN)), first computation and a recomputation;
  2. times publication of that run (set-based tier/score update, tier history insert);
  3. times a naive per-customer version (a query for the customer's transactions, a query for
     its assessments, scoring in Python, one INSERT per grade) on a sample of customers,
     checks it gives the same scores, and extrapolates to all customers.

    DATABASE_URL=sqlite:////tmp/crm_bench_tiers.sqlite3 python bench/tiers_regrade.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_tiers python bench/tiers_regrade.py

Options: --customers, --transactions, --sample (naive), --rebuild.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/crm_bench_tiers.sqlite3")


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    base = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        ensure_postgres_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import Customer, Transaction

    print(f"Database: {connection.vendor} ({url})")
    customers_ok = Customer.objects.count() == args.customers and not args.rebuild
    if not customers_ok or Transaction.objects.count() != args.transactions:
        build(args.customers, args.transactions, keep_customers=customers_ok)
    if not args.build_only:
        run_benchmark(args)


# --- Data --------------------------------------------------------------------------------------


def build(customers: int, transactions: int, keep_customers: bool = False) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import (
        Customer,
        CustomerStatus,
        Department,
        Transaction,
        User,
    )
    from tiers.models import Assessment, Grade, GradingRun, TierChange

    rng = random.Random(2026)
    started = time.perf_counter()
    with transaction.atomic():
        TierChange.objects.all().delete()
        Grade.objects.all()._raw_delete(Grade.objects.db)
        GradingRun.objects.all().delete()
        Assessment.objects.all()._raw_delete(Assessment.objects.db)
        Transaction.objects.all()._raw_delete(Transaction.objects.db)
    if connection.vendor == "postgresql" and keep_customers:
        build_postgres_sql(transactions)
        return
    with transaction.atomic():
        Customer.objects.all().delete()
        department, _ = Department.objects.get_or_create(code="bench", defaults={"name": "Bench"})
        manager, _ = User.objects.get_or_create(username="bench_manager")
        now = timezone.now()
        batch = []
        for index in range(customers):
            batch.append(
                Customer(
                    name=f"Bench customer {index}",
                    status=CustomerStatus.ACTIVE if index % 20 else CustomerStatus.DORMANT,
                    department=department,
                    primary_manager=manager,
                    created_at=now - datetime.timedelta(days=500 + index % 700),
                )
            )
            if len(batch) == 10_000:
                Customer.objects.bulk_create(batch)
                batch = []
        Customer.objects.bulk_create(batch)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    print(f"  customers: {len(ids)} in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    today = timezone.localdate()
    table = Transaction._meta.db_table
    columns = ["customer_id", "date", "amount", "profit", "due_date", "paid_date", "reference"]
    sizes = [rng.choice([20_000, 60_000, 150_000, 400_000]) for _ in ids]

    def rows():
        for n in range(transactions):
            position = rng.randrange(len(ids))
            day = today - datetime.timedelta(days=rng.randint(1, 730))
            amount = int(sizes[position] * rng.uniform(0.2, 1.8))
            due = day + datetime.timedelta(days=rng.choice((0, 30, 60, 90)))
            paid = None
            if due < today and rng.random() < 0.93:
                paid = max(day, due + datetime.timedelta(days=rng.choice((-5, 0, 0, 3, 20))))
            yield (
                ids[position],
                day,
                Decimal(amount),
                Decimal(amount * rng.randint(5, 30)) / 100,
                due,
                paid,
                f"B{n}",
            )

    bulk_insert(table, columns, rows())
    print(f"  transactions: {transactions} in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    codes = [
        "industry_outlook",
        "growth_trend",
        "expansion_potential",
        "credit_rating",
        "financial_health",
        "recommendation",
        "brand_recognition",
    ]
    assessed_at = timezone.now().replace(year=2026, month=8, day=15)

    def assessments():
        for customer_id in ids:
            for code in codes:
                if rng.random() < 0.97:
                    value = Decimal(rng.randint(200, 1000)) / 10
                    yield (customer_id, code, value, "", "2026Q3", assessed_at)

    bulk_insert(
        Assessment._meta.db_table,
        ["customer_id", "indicator_code", "value", "note", "period", "assessed_at"],
        assessments(),
    )
    print(f"  assessments in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def build_postgres_sql(transactions: int) -> None:
    """PostgreSQL: generate transactions and assessments server-side (generate_series)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Customer

    ids = Customer.objects.order_by("pk").values_list("pk", flat=True)
    low, high, count = ids.first(), ids.last(), ids.count()
    assert high - low + 1 == count, "customer ids must be contiguous"
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")
        cursor.execute(
            """
            INSERT INTO accounts_transaction
                (customer_id, date, amount, profit, due_date, paid_date, reference)
            SELECT customer_id, day, amount,
                   round(amount * (5 + floor(random() * 26))::numeric / 100, 2),
                   day + due_off,
                   CASE WHEN day + due_off < %(today)s AND random() < 0.93 THEN
                       GREATEST(day, day + due_off
                                + (ARRAY[-5, 0, 0, 3, 20])[1 + floor(random() * 5)::int])
                   END,
                   'B' || n
            FROM (
                SELECT n, %(low)s + floor(random() * %(count)s)::int AS customer_id,
                       %(today)s - (1 + floor(random() * 730))::int AS day,
                       round(((ARRAY[20000, 60000, 150000, 400000])[1 + floor(random() * 4)::int]
                             * (0.2 + random() * 1.6))::numeric) AS amount,
                       (ARRAY[0, 30, 60, 90])[1 + floor(random() * 4)::int] AS due_off
                FROM generate_series(1, %(tx)s) AS n
            ) s
            """,
            {"today": today, "low": low, "count": count, "tx": transactions},
        )
        print(f"  transactions: {transactions} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO tiers_assessment
                (customer_id, indicator_code, value, note, period, assessed_at)
            SELECT c.id, code, round((20 + random() * 80)::numeric, 1), '', '2026Q3', %(at)s
            FROM accounts_customer c
            CROSS JOIN unnest(ARRAY['industry_outlook', 'growth_trend', 'expansion_potential',
                'credit_rating', 'financial_health', 'recommendation', 'brand_recognition']) code
            WHERE random() < 0.97
            """,
            {"at": timezone.now().replace(year=2026, month=8, day=15)},
        )
        print(f"  assessments in {time.perf_counter() - started:.1f} s")
        cursor.execute("ANALYZE")


def bulk_insert(table: str, columns: list[str], rows) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        raw = cursor.cursor
        chunk = []
        for row in rows:
            chunk.append(tuple(_sqlite_value(v) for v in row))
            if len(chunk) == 50_000:
                raw.executemany(sql, chunk)
                chunk = []
        raw.executemany(sql, chunk)


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- Timing ------------------------------------------------------------------------------------


def timed_regrade(period: str) -> tuple[float, float, float]:
    """Run manage.py regrade in a child process; return (wall seconds, peak RSS of the child
    in MB, CPU seconds of the child). CPU time is given because wall time on a shared machine
    depends on the load (printed with the results)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "regrade", "--period", period],
        check=True,
        env=os.environ.copy(),
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, after.ru_maxrss / 1024, cpu


def naive_grades(period, spec, customer_ids) -> dict[int, Decimal]:
    """The naive version: per customer, one query for its transactions, one for its
    assessments, scoring in Python and one INSERT for its grade."""
    from django.db.models import Sum

    from accounts.models import Customer, Transaction
    from tiers import scoring
    from tiers.computation import period_end_instant
    from tiers.models import Assessment, Grade, GradingRun, movement_between

    run = GradingRun.objects.create(
        period="2000Q1",
        scoring_model_id=GradingRun.objects.get(period=str(period)).scoring_model_id,
        window_start=period.window_start,
        window_end=period.end,
    )
    start, end = period.window_start, period.end
    total = scoring.D(
        Transaction.objects.filter(date__gte=start, date__lte=end).aggregate(t=Sum("profit"))["t"]
    ).quantize(Decimal("0.01"))
    end_instant = period_end_instant(period)
    assessed = [i.code for i in spec.indicators if not i.computed]
    scores = {}
    for customer in Customer.objects.filter(pk__in=customer_ids).order_by("pk"):
        txs = [
            scoring.Tx(customer.pk, t.date, t.amount, t.profit, t.due_date, t.paid_date)
            for t in Transaction.objects.filter(customer=customer).exclude(
                date__gt=end
            )  # everything up to the period end, filtered in Python
        ]
        in_window = [t for t in txs if start <= t.date <= end]
        due = [t for t in txs if t.due_date and start <= t.due_date <= end]
        raws = scoring.raws_from_aggregates(
            amount=sum((t.amount for t in in_window), Decimal(0)),
            count=len(in_window),
            profit=sum((t.profit for t in in_window), Decimal(0)),
            total_profit=total,
            due=len(due),
            on_time=sum(1 for t in due if t.paid_date and t.paid_date <= t.due_date),
            quarters_active=sum(
                1
                for q in period.window_quarters
                if any(q.start <= t.date <= q.end for t in in_window)
            ),
        )
        latest = {}
        for a in Assessment.objects.filter(customer=customer, assessed_at__lt=end_instant).order_by(
            "assessed_at", "id"
        ):
            latest[a.indicator_code] = a.value
        for code in assessed:
            raws[code] = latest.get(code)
        result = scoring.score_customer(raws, spec)
        Grade.objects.create(
            run=run,
            customer=customer,
            score=result.score,
            computed_tier=result.tier,
            tier=result.tier,
            previous_tier=customer.tier,
            movement=movement_between(customer.tier, result.tier),
            incomplete=result.incomplete,
            breakdown=result.breakdown(),
        )
        scores[customer.pk] = result.score
    return scores


def run_benchmark(args) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Customer, Transaction, User
    from tiers import scoring, services
    from tiers.models import Grade, GradingRun, TierChange

    period = scoring.period_just_ended(timezone.localdate())
    customers = Customer.objects.count()
    transactions = Transaction.objects.count()
    print(f"Data: {customers} customers, {transactions} transactions; period {period}")
    print(f"Load average before timing: {os.getloadavg()} on {os.cpu_count()} CPUs")
    # Start from no run for the period.
    with transaction.atomic():
        TierChange.objects.all().delete()
        Grade.objects.all().delete()
        GradingRun.objects.all().delete()
        Customer.objects.update(tier="", score=None)
    connection.close()

    first, first_peak, first_cpu = timed_regrade(str(period))
    run = GradingRun.objects.get(period=str(period))
    print(
        f"regrade (first):  {first:.1f} s wall, {first_cpu:.1f} s CPU, "
        f"peak RSS {first_peak:.0f} MB, {run.grade_count} grades",
        flush=True,
    )
    again, again_peak, again_cpu = timed_regrade(str(period))
    print(
        f"regrade (rerun):  {again:.1f} s wall, {again_cpu:.1f} s CPU, peak {again_peak:.0f} MB",
        flush=True,
    )

    executive, _ = User.objects.get_or_create(
        username="bench_exec", defaults={"is_superuser": True}
    )
    executive.is_superuser = True
    executive.save()
    services.grading_run_start_review(run=run, started_by=executive)
    started = time.perf_counter()
    services.grading_run_publish(run=run, published_by=executive)
    publish = time.perf_counter() - started
    print(f"publish:          {publish:.1f} s ({TierChange.objects.count()} tier changes)")

    spec = run.scoring_model.spec()
    sample = list(
        Customer.objects.filter(pk__in=Grade.objects.filter(run=run).values("customer_id"))
        .order_by("?")
        .values_list("pk", flat=True)[: args.sample]
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    with transaction.atomic():
        naive = naive_grades(period, spec, sample)
        transaction.set_rollback(True)
    naive_elapsed = time.perf_counter() - started
    naive_cpu = (time.process_time() - cpu_started) / len(sample) * run.grade_count
    per_customer = naive_elapsed / len(sample)
    naive_total = per_customer * run.grade_count
    expected = dict(
        Grade.objects.filter(run=run, customer_id__in=sample).values_list("customer_id", "score")
    )
    mismatches = sum(1 for pk, score in naive.items() if expected[pk] != score)
    print(
        f"naive:            {naive_elapsed:.1f} s for {len(sample)} customers "
        f"({per_customer * 1000:.2f} ms each) → {naive_total:.0f} s extrapolated to "
        f"{run.grade_count}; {mismatches} score mismatches"
    )
    print(f"naive CPU:        {naive_cpu:.0f} s extrapolated (this process only)")
    print(f"speed-up:         {naive_total / first:.0f}× (wall)")
    if connection.vendor == "sqlite":  # in-process database: CPU time covers both versions
        print(f"speed-up (CPU):   {naive_cpu / first_cpu:.0f}×")
    print(f"Load average after timing: {os.getloadavg()}")


if __name__ == "__main__":
    main()
