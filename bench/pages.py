"""Time the main pages against a database that already holds the demo at scale.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/pages.py [--repeat 30]

Build the data first with `manage.py seed_demo --customers 100000 --password x`. Each page is
requested through Django's test client (server time, no network) `--repeat` times after one
warm-up request; the script prints the median, the 95th percentile and the SQL query count
as a Markdown table. Django admin's change list of the same customers with the same filter
runs beside our list, as the reference a Django user knows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_DEBUG", "false")
# The pages themselves, each rendered: the page cache (config.page_cache) would answer repeats.
os.environ.setdefault("PAGE_CACHE_SECONDS", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Customer, User  # noqa: E402


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int, int]:
    """Return (median ms, p95 ms, queries, status) for GET url."""
    client.get(url)  # warm caches (templates, connection)
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, len(queries), response.status_code


def pages(customer_id: int, page_500: int) -> list[tuple[str, str, str]]:
    """Return (user, label, url) of every page measured."""
    return [
        ("am_east1", "customer list, first page", "/customers/"),
        ("head_east", "customer list, first page (head)", "/customers/"),
        ("gm", "customer list, first page (all customers)", "/customers/"),
        ("gm", f"customer list, page {page_500}", f"/customers/?page={page_500}"),
        ("gm", "customer list, filtered", "/customers/?status=active&industry=it"),
        ("gm", "customer list, searched (name)", "/customers/?q=%E8%BF%9C%E8%88%AA"),
        ("gm", "customer list, searched (contact phone)", "/customers/?q=13912"),
        ("gm", "customer list, sorted by name", "/customers/?ordering=name"),
        (
            "gm",
            f"customer list, sorted by name, page {page_500}",
            f"/customers/?ordering=name&page={page_500}",
        ),
        ("gm", "complaint list (all)", "/complaints/?scope=all"),
        ("gm", "complaint list (all), last page", "/complaints/?scope=all&page=last"),
        (
            "gm",
            "complaint list, filtered (status, severity)",
            "/complaints/?scope=all&status=new&severity=high",
        ),
        (
            "gm",
            "complaint list, searched (customer name)",
            "/complaints/?scope=all&q=%E8%BF%9C%E8%88%AA",
        ),
        ("head_east", "complaint list (head)", "/complaints/"),
        ("gm", "contract list (all)", "/contracts/all/"),
        ("gm", "contract list (all), last page", "/contracts/all/?page=last"),
        ("gm", "contract list, filtered (status)", "/contracts/all/?status=pending"),
        ("am_east1", "contract list (manager)", "/contracts/"),
        ("gm", "admin change list, first page", "/admin/accounts/customer/"),
        (
            "admin",
            "admin change list, filtered (status, industry)",
            "/admin/accounts/customer/?status__exact=active&industry__exact=it",
        ),
        ("gm", "customer detail", f"/customers/{customer_id}/"),
        ("gm", "customer detail, transactions tab", f"/customers/{customer_id}/?tab=transactions"),
        ("am_east1", "home page (manager)", "/"),
        ("head_east", "home page (head)", "/"),
        ("gm", "home page (executive)", "/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    count = Customer.objects.count()
    if count == 0:
        sys.exit("No customers: run manage.py seed_demo --customers 100000 first.")
    customer = Customer.objects.filter(transactions__isnull=False).order_by("pk").first()
    clients: dict[str, Client] = {}
    print(f"{count} customers, database {connection.vendor}, {args.repeat} requests per page\n")
    print("| page | median ms | p95 ms | queries |")
    print("| --- | ---: | ---: | ---: |")
    for username, label, url in pages(customer.pk, page_500=min(500, max(1, count // 25))):
        if "admin" in url and username != "admin":
            username = "admin"
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        median, p95, queries, status = measure(clients[username], url, args.repeat)
        flag = "" if status == 200 else f" (HTTP {status})"
        print(f"| {label}{flag} | {median:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
