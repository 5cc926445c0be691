"""Run the daily visits job by hand: reminders, care tasks, archive-check reminders."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from visits.services import visits_daily_run


class Command(BaseCommand):
    help = (
        "Remind managers of visits due within 3 days and overdue ones (once per visit a day), "
        "create the coming week's care tasks and remind of quarterly archive checks."
    )

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
        result = visits_daily_run(today=today)
        reminders = result["reminders"]
        self.stdout.write(
            f"Reminded {reminders['reminded']} visits to {reminders['people']} people "
            f"({reminders['emails']} e-mails); {result['care']['created']} care tasks; "
            f"{result['archive']['reminded']} archive-check reminders."
        )


def _parse(value: str):
    return date.fromisoformat(value)
