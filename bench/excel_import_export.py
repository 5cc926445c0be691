"""Bench the Excel import and export.

    .venv/bin/python bench/excel_import_export.py            # both, on a fresh SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_excel_bench \\
        .venv/bin/python bench/excel_import_export.py

Targets: import 10,000 customers with 20,000 contacts in < 30 s; export 100,000 customers in
< 60 s with peak memory < 300 MB. Each phase runs in its own process so that its peak RSS
(ru_maxrss) is its own. Results are printed as JSON lines; see bench/README.md.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "sqlite:////tmp/crm-excel-bench.sqlite3"
IMPORT_CUSTOMERS = int(os.environ.get("BENCH_IMPORT_CUSTOMERS", 10_000))
EXPORT_CUSTOMERS = int(os.environ.get("BENCH_EXPORT_CUSTOMERS", 100_000))
# Two contacts each keeps the contacts sheet within the default 20,000-row limit per sheet.
CONTACTS_EACH = 2


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_setup() -> dict:
    """Fresh schema, the demo people, no customers."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", customers=0, password="bench-pass-2026", force=True, add=True)
    return {"phase": "setup"}


def build_import_file(count: int) -> bytes:
    """Write count customers and CONTACTS_EACH contacts each, as a user would upload them."""
    import random

    from openpyxl import Workbook

    from accounts.management.commands.seed_demo import make_credit_code

    rng = random.Random(7)
    workbook = Workbook(write_only=True)
    customers = workbook.create_sheet("客户")
    contacts = workbook.create_sheet("联系人")
    customers.append(
        ["客户名称", "统一社会信用代码", "客户类型", "行业", "省份", "城市", "地址",
         "部门", "客户经理", "辅助客户经理", "备注"]
    )  # fmt: skip
    contacts.append(["客户名称", "统一社会信用代码", "联系人", "职务", "电话", "邮箱", "生日",
                     "主要联系人"])  # fmt: skip
    import datetime

    for index in range(count):
        code = make_credit_code(rng, 900_000 + index)
        name = f"导入测试{index:05d}贸易有限公司"
        east = index % 3 != 2
        customers.append(
            [name, code, "Enterprise", "Manufacturing", "江苏省" if east else "北京市",
             "南京" if east else "北京", f"中山路{index}号",
             "east" if east else "north", "am_east1" if east else "am_north1",
             "am_east2" if east else None, ""]
        )  # fmt: skip
        for position in range(CONTACTS_EACH):
            contacts.append(
                [name, code, f"联系人{index}-{position}", "采购经理",
                 f"139{index:05d}{position:03d}", f"c{index}_{position}@example.cn",
                 datetime.date(1980, 1 + position, 1 + index % 28), position == 0]
            )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def phase_import() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts import imports
    from accounts.models import Contact, Customer, User

    content = build_import_file(IMPORT_CUSTOMERS)
    admin = User.objects.get(username="admin")
    upload = SimpleUploadedFile("bench.xlsx", content)
    started, cpu_started = time.perf_counter(), time.process_time()
    token = imports.import_preview(user=admin, kind="customers", upload=upload)
    previewed = time.perf_counter()
    result = imports.import_commit(user=admin, token=token)
    done, cpu_done = time.perf_counter(), time.process_time()
    assert Customer.objects.count() == IMPORT_CUSTOMERS, Customer.objects.count()
    assert Contact.objects.count() == CONTACTS_EACH * IMPORT_CUSTOMERS
    # Importing the same file again must change nothing (and say so quickly).
    again = time.perf_counter()
    token = imports.import_preview(
        user=admin, kind="customers", upload=SimpleUploadedFile("bench.xlsx", content)
    )
    second = imports.import_commit(user=admin, token=token)
    reimported = time.perf_counter()
    assert second.created == 0 and Customer.objects.count() == IMPORT_CUSTOMERS
    return {
        "phase": "import",
        "customers": IMPORT_CUSTOMERS,
        "contacts": CONTACTS_EACH * IMPORT_CUSTOMERS,
        "file_mb": round(len(content) / 1e6, 2),
        "preview_s": round(previewed - started, 2),
        "commit_s": round(done - previewed, 2),
        "total_s": round(done - started, 2),
        "total_cpu_s": round(cpu_done - cpu_started, 2),
        "load_average": os.getloadavg()[0],
        "reimport_s": round(reimported - again, 2),
        "created": result.created,
        "peak_rss_mb": round(peak_mb(), 1),
    }


def phase_fill() -> dict:
    """Add customers (bulk, no history) until there are EXPORT_CUSTOMERS of them."""
    from decimal import Decimal

    from django.db import transaction

    from accounts.models import Customer, Department, User

    missing = EXPORT_CUSTOMERS - Customer.objects.count()
    departments = {d.code: d for d in Department.objects.all()}
    users = {u.username: u for u in User.objects.all()}
    with transaction.atomic():
        for start in range(0, max(missing, 0), 5000):
            Customer.objects.bulk_create(
                [
                    Customer(
                        name=f"导出测试{start + i:06d}有限公司",
                        short_name="导出测试",
                        credit_code="",
                        province="浙江省",
                        city="杭州",
                        address=f"建设大道{i}号",
                        status="active",
                        department=departments["east"],
                        primary_manager=users["am_east1"],
                        assistant_manager=users["am_east2"] if i % 2 else None,
                        credit_limit=Decimal("1000000.00"),
                        notes='=HYPERLINK("http://x","y")' if i == 0 else "",
                    )
                    for i in range(min(5000, missing - start))
                ],
                batch_size=1000,
            )
    return {"phase": "fill", "customers": Customer.objects.count()}


def phase_export() -> dict:
    from django.contrib.sessions.middleware import SessionMiddleware  # noqa: F401
    from django.test import RequestFactory

    from accounts.exports import customer_export
    from accounts.models import User

    request = RequestFactory().get("/customers/export.xlsx")
    request.user = User.objects.get(username="admin")
    rss_before = peak_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    response = customer_export(request)
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    import zipfile

    from accounts.xlsx_reader import XlsxWorkbook as _Workbook

    handle = response.file_to_stream
    handle.seek(0)
    with zipfile.ZipFile(handle) as archive:  # count the rows written (lxml: fast)
        workbook = _Workbook(archive)
        rows = sum(1 for _ in workbook.rows(workbook.sheets[0][1])) - 1
    return {
        "phase": "export",
        "rows": rows,
        "file_mb": round(size / 1e6, 2),
        "export_s": round(elapsed, 2),
        "export_cpu_s": round(cpu, 2),
        "load_average": os.getloadavg()[0],
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_mb(), 1),
    }


PHASES = {"setup": phase_setup, "import": phase_import, "fill": phase_fill, "export": phase_export}


def main() -> None:
    if len(sys.argv) > 1:
        setup_django()
        print(json.dumps(PHASES[sys.argv[1]](), ensure_ascii=False), flush=True)
        return
    results = []
    for phase in ("setup", "import", "fill", "export"):
        output = subprocess.run(
            [sys.executable, __file__, phase], check=True, capture_output=True, text=True
        ).stdout
        line = json.loads(output.strip().splitlines()[-1])
        print(json.dumps(line, ensure_ascii=False), flush=True)
        results.append(line)
    imported, exported = results[1], results[3]
    ok_import = imported["total_s"] < 30
    ok_export = exported["export_s"] < 60 and exported["peak_rss_mb"] < 300
    print(
        f"import {imported['customers']:,} customers + {imported['contacts']:,} contacts: "
        f"{imported['total_s']} s ({'OK' if ok_import else 'TOO SLOW'}); "
        f"export {exported['rows']:,} customers: {exported['export_s']} s, peak "
        f"{exported['peak_rss_mb']} MB ({'OK' if ok_export else 'OVER TARGET'})"
    )
    sys.exit(0 if ok_import and ok_export else 1)


if __name__ == "__main__":
    main()
