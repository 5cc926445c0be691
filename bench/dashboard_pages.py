"""Time the home page of each role and every report against the demo at scale.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/dashboard_pages.py

Build the data first with `manage.py seed_demo --customers 100000 --password x`. Each page is
requested through Django's test client (server time, no network) `--repeat` times after one
warm-up request; the script prints the median, the 95th percentile and the SQL query count as a
Markdown table (bench/README.md, section "Dashboard").
"""

from __future__ import annotations

import argparse
import os
import sys
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

from accounts.models import Customer, Transaction, User  # noqa: E402
from bench.pages import measure  # noqa: E402
from dashboard.reports import REPORTS, published_runs  # noqa: E402

HOMES = [
    ("am_east1", "manager"),
    ("head_east", "head"),
    ("finance", "finance"),
    ("gm", "executive"),
]
REPORT_USERS = ["head_east", "gm"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", help="measure only the URLs containing this text")
    args = parser.parse_args()
    customers = Customer.objects.count()
    if customers == 0:
        sys.exit("No customers: run manage.py seed_demo --customers 100000 first.")
    print(
        f"{customers} customers, {Transaction.objects.count()} transactions, database "
        f"{connection.vendor}, {args.repeat} requests per page\n"
    )
    print("| page | user | median ms | p95 ms | queries |")
    print("| --- | --- | ---: | ---: | ---: |")
    clients: dict[str, Client] = {}
    pages = [("/", f"home page ({role})", user) for user, role in HOMES]
    for slug, (_fn, title) in REPORTS.items():
        for user in REPORT_USERS:
            pages.append((f"/reports/{slug}/", f"report: {title}", user))
    pages.append(("/reports/revenue/export.xlsx", "report: revenue, Excel export", "gm"))
    # A cell of the movement matrix: the largest one (B stays B), a page deep in its list.
    runs = list(published_runs().order_by("-period").values_list("pk", flat=True)[:2])
    if len(runs) == 2:
        cell = f"/reports/movement/customers/?run_from={runs[1]}&run_to={runs[0]}&from=B&to=B"
        for user in REPORT_USERS:
            pages.append((f"{cell}&page=20", "report: movement cell B → B, page 20", user))
    for url, label, username in pages:
        if args.only and args.only not in url:
            continue
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        median, p95, queries, status = measure(clients[username], url, args.repeat)
        flag = "" if status == 200 else f" (HTTP {status})"
        print(f"| {label}{flag} | {username} | {median:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
