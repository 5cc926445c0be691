"""Demo data for the dashboard: build the sales summary from the demo's transactions."""

from . import sales


def seed(context) -> None:
    rows = sales.refresh_sales_summary()
    context.stdout.write(f"Dashboard: sales summary built ({rows} rows).")
