"""Demo data for the dashboard: build the summaries from the demo's data."""

from .summaries import refresh_summaries


def seed(context) -> None:
    counts = refresh_summaries(today=context.today)
    context.stdout.write(
        f"Dashboard: summaries built ({counts['sales']} sales rows, {counts['risks']} risks)."
    )
