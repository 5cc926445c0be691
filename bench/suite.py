"""The whole benchmark on one database vendor: what `make bench` runs.

    .venv/bin/python bench/suite.py sqlite|postgresql [--sections pages,load] [--quick]

1. Makes sure the benchmark database holds the demo at scale: SQLite var/bench/bench.sqlite3 or
   the PostgreSQL database crm_bench_make (server: BENCH_PG_SERVER, default
   postgres://postgres@127.0.0.1:5432). Built once with `migrate` and
   `seed_demo --customers 100000`, then reused; `migrate` runs every time so new migrations
   apply. A build that did not finish (no marker file in var/bench/) is started again.
2. Runs the sections, each in its own process, printing its output as it comes:
   pages (bench/pages.py), dashboard (bench/dashboard_pages.py), regrade
   (bench/tiers_regrade.py), reminders (bench/visits_reminders.py), excel
   (bench/excel_import_export.py) and, on PostgreSQL only, load (bench/load.py). The three
   job benchmarks build their own scratch databases (var/bench/*.sqlite3, crm_bench_make_*).
3. Writes everything to bench/results/latest-<vendor>.md with the machine and the date.

--quick: fewer repetitions, 10,000 customers for the jobs, 15 s of load (a smoke run of the
whole suite; its figures are not the issue's). --customers: the size of the page database
(another size gets its own database). The exit status is 1 if any section failed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
SECTIONS = ["pages", "dashboard", "regrade", "reminders", "excel", "load"]
FULL_CUSTOMERS = 100_000


@dataclass
class Section:
    name: str
    title: str
    command: list[str]
    database_url: str
    env: dict[str, str]


def page_database_url(vendor: str, customers: int) -> str:
    """URL of the database the pages and the load are measured on (one per size)."""
    suffix = "" if customers == FULL_CUSTOMERS else f"_{customers}"
    if vendor == "sqlite":
        return f"sqlite:///{VAR}/bench{suffix}.sqlite3"
    return f"{PG_SERVER}/crm_bench_make{suffix}"


def job_database_url(vendor: str, job: str, customers: int) -> str:
    """URL of a job benchmark's scratch database (the scripts fill it themselves)."""
    if vendor == "sqlite":
        return f"sqlite:///{VAR}/{job}_{customers}.sqlite3"
    return f"{PG_SERVER}/crm_bench_make_{job}_{customers}"


def sections(vendor: str, quick: bool, customers: int) -> list[Section]:
    """Return every section with its command line, for one vendor."""
    pages_db = page_database_url(vendor, customers)
    job_customers = 10_000 if quick else FULL_CUSTOMERS

    def job_db(job: str) -> str:
        return job_database_url(vendor, job, job_customers)

    bench = ROOT / "bench"
    result = [
        Section(
            "pages",
            "Pages: customer list, detail, home pages, Django admin's change list",
            [PYTHON, str(bench / "pages.py"), "--repeat", "5" if quick else "30"],
            pages_db,
            {},
        ),
        Section(
            "dashboard",
            "Dashboard: each role's home page and every report",
            [PYTHON, str(bench / "dashboard_pages.py"), "--repeat", "3" if quick else "15"],
            pages_db,
            {},
        ),
        Section(
            "regrade",
            f"Re-grading {job_customers:,} customers (set-based against naive)",
            [
                PYTHON,
                str(bench / "tiers_regrade.py"),
                f"--customers={job_customers}",
                f"--transactions={20 * job_customers}",
                f"--sample={200 if quick else 500}",
            ],
            job_db("tiers"),
            {},
        ),
        Section(
            "reminders",
            f"Visit reminders over {job_customers:,} customers",
            [PYTHON, str(bench / "visits_reminders.py"), f"--customers={job_customers}"],
            job_db("visits"),
            {},
        ),
        Section(
            "excel",
            "Excel import and export",
            [PYTHON, str(bench / "excel_import_export.py")],
            job_db("excel"),
            {
                "BENCH_IMPORT_CUSTOMERS": "2000" if quick else "10000",
                "BENCH_EXPORT_CUSTOMERS": str(job_customers),
            },
        ),
    ]
    if vendor == "postgresql":
        result.append(
            Section(
                "load",
                "Load: gunicorn, 4 workers, 50 signed-in users under wrk",
                [PYTHON, str(bench / "load.py")]
                + (["--duration=15"] if quick else ["--duration=60", "--per-page=10"]),
                pages_db,
                {},
            )
        )
    return result


def run_logged(command: list[str], env: dict[str, str], output: list[str]) -> int:
    """Run command, echoing its standard output line by line and keeping it in `output`;
    its standard error goes to the terminal only (warnings and logs are not results)."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    for line in process.stdout:
        print(line, end="", flush=True)
        output.append(line.rstrip("\n"))
    return process.wait()


def manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def create_postgres_database(url: str, *, fresh: bool) -> bool:
    """Create the database if missing (dropped first if `fresh`); return whether it existed."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as pg:
        if fresh:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            pg.execute(f'CREATE DATABASE "{name}"')
    return bool(exists)


def ensure_page_database(vendor: str, url: str, customers: int) -> None:
    """Build the demo at scale once (marker file when done), migrate it every time."""
    name = url.rsplit("/", 1)[1]
    marker = VAR / f"{name}.{vendor}.seeded"
    built = marker.exists() and marker.read_text().strip() == str(customers)
    VAR.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        built = built and path.exists()
        if not built:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        built = create_postgres_database(url, fresh=not built) and built
    manage(url, "migrate", "--noinput", "-v0")
    if not built:
        print(f"Building the demo with {customers:,} customers in {name} (once; minutes)…")
        started = time.monotonic()
        manage(url, "seed_demo", "--force", "--customers", str(customers), "--password", "x")
        marker.write_text(f"{customers}\n")
        print(f"Built in {time.monotonic() - started:.0f} s.")
    elif vendor == "postgresql":
        # seed_demo vacuums what it builds; a database built before it did, or changed by a
        # migration since, gets it here (this server may run without autovacuum), so that the
        # pages' index-only scans are measured as a live database would run them.
        vacuum_analyze(url)


def vacuum_analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE)")


def machine_description(vendor: str) -> str:
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, {platform.platform()}, Python "
        f"{platform.python_version()}; database {vendor}; commit {commit or 'unknown'}; "
        f"load average (1/5/15 min) at the start {load}"
    )


def has_table(lines: list[str]) -> bool:
    return any(line.startswith("| ") for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vendor", choices=["sqlite", "postgresql"])
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--customers", type=int, default=FULL_CUSTOMERS)
    args = parser.parse_args()
    wanted = args.sections.split(",")
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")

    chosen = [s for s in sections(args.vendor, args.quick, args.customers) if s.name in wanted]
    started = datetime.datetime.now(datetime.UTC)
    report = [
        f"# Benchmark results: {args.vendor}{' (quick)' if args.quick else ''}",
        "",
        f"Run of {started:%Y-%m-%d %H:%M} UTC by `bench/suite.py "
        f"{' '.join(sys.argv[1:])}` (`make bench`).",
        "",
        f"Machine: {machine_description(args.vendor)}.",
    ]
    failed = []
    if {"pages", "dashboard", "load"} & {section.name for section in chosen}:
        ensure_page_database(
            args.vendor, page_database_url(args.vendor, args.customers), args.customers
        )
    for section in chosen:
        print(f"\n== {section.name}: {section.title} ==\n", flush=True)
        if args.vendor == "postgresql" and section.name != "load":
            create_postgres_database(section.database_url, fresh=False)
        env = {**os.environ, "DATABASE_URL": section.database_url, **section.env}
        env.pop("DJANGO_SETTINGS_MODULE", None)  # each script picks its own
        output: list[str] = []
        section_started = time.monotonic()
        status = run_logged(section.command, env, output)
        took = time.monotonic() - section_started
        if status != 0:
            failed.append(section.name)
        command = " ".join(Path(part).name if part == PYTHON else part for part in section.command)
        command = command.replace(str(ROOT) + "/", "")
        report += ["", f"## {section.title}", ""]
        report.append(
            f"`DATABASE_URL={section.database_url.replace(str(ROOT) + '/', '')} {command}` "
            f"— {took:.0f} s, exit status {status}"
            f"{'' if status == 0 else ' (a target missed or an error: see the output)'}."
        )
        report.append("")
        report += output if has_table(output) else ["```", *output, "```"]
    finished = os.getloadavg()
    report += [
        "",
        f"Finished {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average "
        f"{'/'.join(f'{x:.2f}' for x in finished)}."
        + (f" Sections with a non-zero exit status: {', '.join(failed)}." if failed else ""),
    ]
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"latest-{args.vendor}{'-quick' if args.quick else ''}.md"
    target.write_text("\n".join(report) + "\n")
    print(f"\nResults written to {target.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
