"""manage.py regrade [--period 2026Q3]: the quarterly grading job, by hand."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.errors import BusinessRuleError
from tiers import scoring, services


class Command(BaseCommand):
    help = "Compute the grading run of a quarter (default: the quarter just ended)."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="a quarter such as 2026Q3")

    def handle(self, *args, period: str | None = None, **options):
        try:
            parsed = (
                scoring.parse_period(period)
                if period is not None
                else scoring.period_just_ended(timezone.localdate())
            )
        except scoring.PeriodError as error:
            raise CommandError(str(error)) from error
        started = time.perf_counter()
        try:
            run = services.grading_run_compute(period=parsed)
        except BusinessRuleError as error:
            raise CommandError(error.message) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Grading run {run.period} ({run.get_status_display()}): "
                f"{run.grade_count} grades in {elapsed:.1f} s."
            )
        )
