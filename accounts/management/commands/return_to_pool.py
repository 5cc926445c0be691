"""Warn about and return neglected customers to the pool (the daily job, run by hand)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounts.services import pool_return_run


class Command(BaseCommand):
    help = "Warn managers of customers about to return to the pool, and return the overdue."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="run as of this day (YYYY-MM-DD); default today")

    def handle(self, *args, date: str | None = None, **options):
        today = None
        if date:
            try:
                today = _parse(date)
            except ValueError as error:
                raise CommandError(
                    f"--date must be a date like 2026-11-23, not {date!r}."
                ) from error
        result = pool_return_run(today=today)
        self.stdout.write(f"Warned {result['warned']}, returned {result['returned']} customers.")


def _parse(value: str):
    return date.fromisoformat(value)
