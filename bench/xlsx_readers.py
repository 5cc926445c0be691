"""Bench the readers an Excel import could use, on one 20,000-row customer sheet.

    .venv/bin/python bench/xlsx_readers.py            # 5 runs of each reader, medians
    BENCH_RUNS=9 BENCH_ROWS=20000 .venv/bin/python bench/xlsx_readers.py

Each run is a fresh process that reads every cell of the sheet into Python values and drops
them: CPU seconds (`time.process_time`, the reading only) and the peak memory the reading
added (`ru_maxrss` after minus before; it includes the zip and, for calamine, Rust's own
allocations). The readers:

- `lxml`: `accounts.xlsx_reader.XlsxWorkbook` (iterparse, what the import uses);
- `openpyxl-ro`: openpyxl's read-only mode, `iter_rows(values_only=True)`;
- `calamine`: python-calamine (Rust), `iter_rows()`, when installed — it is not a dependency
  of the project (bench/README.md, "Excel readers", says why):
  `.venv/bin/pip install python-calamine==0.9.1`.

The hostile-file inspection (`inspect_upload`) runs before any reader and is measured once
on its own. Every reader must return the same number of rows as the others.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("BENCH_ROWS", 20_000))
RUNS = int(os.environ.get("BENCH_RUNS", 5))
FILE = Path(os.environ.get("BENCH_XLSX", f"/tmp/crm-bench-customers-{ROWS}.xlsx"))
READERS = ("lxml", "openpyxl-ro", "calamine")

HEADERS = [
    "客户名称", "简称", "统一社会信用代码", "客户类型", "行业", "省份", "城市", "地址",
    "部门", "客户经理", "协办客户经理", "信用额度", "来源渠道", "备注", "成立日期",
]  # fmt: skip


def build(path: Path) -> None:
    """A customer sheet as a user would fill the template: Chinese texts, numbers, dates."""
    from openpyxl import Workbook

    rng = random.Random(20261204)
    provinces = ["浙江省", "江苏省", "上海市", "北京市", "河北省", "内蒙古自治区"]
    cities = ["杭州", "南京", "上海", "北京", "石家庄", "呼和浩特"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(HEADERS)
    for i in range(ROWS):
        p = rng.randrange(len(provinces))
        sheet.append(
            [
                f"{cities[p]}测试{i:05d}机械制造有限公司",
                f"测试{i:05d}",
                f"91330100MA{i:08d}",
                rng.choice(["企业", "政府机构", "事业单位"]),
                rng.choice(["制造业", "批发零售", "信息技术", "建筑业"]),
                provinces[p],
                cities[p],
                f"{cities[p]}市建设大道{rng.randrange(1, 999)}号",
                rng.choice(["east", "north"]),
                rng.choice(["am_east1", "am_east2", "am_north1"]),
                rng.choice(["", "am_east2"]),
                rng.randrange(10, 500) * 10_000,
                rng.choice(["展会", "转介绍", "官网"]),
                "" if i % 3 else f"第{i}号备注，重点跟进",
                datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000)),
            ]
        )
    workbook.save(path)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def read_lxml(data: bytes) -> int:
    from accounts.xlsx_reader import XlsxWorkbook

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = XlsxWorkbook(archive)
        rows = [values for _number, values in workbook.rows(workbook.sheets[0][1])]
    return len(rows)


def read_openpyxl(data: bytes) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    return len(rows)


def read_calamine(data: bytes) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = list(workbook.get_sheet_by_index(0).iter_rows())
    return len(rows)


def read_inspect(data: bytes) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.xlsx_reader import inspect_upload

    inspect_upload(SimpleUploadedFile("customers.xlsx", data))
    return 0


FUNCTIONS = {
    "lxml": read_lxml,
    "openpyxl-ro": read_openpyxl,
    "calamine": read_calamine,
    "inspect": read_inspect,
}


def child(reader: str) -> dict:
    setup_django()
    data = FILE.read_bytes()
    # Import the reader's modules first: their import is not part of reading a file.
    import openpyxl.reader.excel  # noqa: F401

    import accounts.xlsx_reader  # noqa: F401

    if available("calamine"):
        import python_calamine  # noqa: F401
    before = peak_kb()
    started = time.process_time()
    rows = FUNCTIONS[reader](data)
    cpu = time.process_time() - started
    return {"reader": reader, "rows": rows, "cpu_s": cpu, "peak_mb": (peak_kb() - before) / 1024}


def available(reader: str) -> bool:
    if reader != "calamine":
        return True
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(child(sys.argv[1])), flush=True)
        return
    if not FILE.exists():
        build(FILE)
    print(f"file {FILE} ({FILE.stat().st_size / 1e6:.2f} MB, {ROWS:,} rows + header)")
    results = {}
    for reader in ("inspect", *READERS):
        if not available(reader):
            print(f"{reader}: not installed, skipped")
            continue
        runs = []
        for _ in range(RUNS if reader != "inspect" else 3):
            output = subprocess.run(
                [sys.executable, __file__, reader], check=True, capture_output=True, text=True
            ).stdout
            runs.append(json.loads(output.strip().splitlines()[-1]))
        results[reader] = {
            "rows": runs[0]["rows"],
            "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
            "cpu_runs": [round(r["cpu_s"], 2) for r in runs],
            "peak_mb": round(statistics.median(r["peak_mb"] for r in runs), 1),
            "load_average": os.getloadavg(),
        }
        print(json.dumps({reader: results[reader]}), flush=True)
    counts = {results[r]["rows"] for r in READERS if r in results}
    if len(counts) != 1:
        print(f"readers disagree on the row count: {counts}")
        sys.exit(1)


if __name__ == "__main__":
    main()
