import datetime

from django.core.management.base import BaseCommand

from contracts import services


class Command(BaseCommand):
    help = (
        "Remind contract owners 7 days before and on each instalment's due date, and on "
        "Mondays send each department head a digest of overdue instalments. Safe to run "
        "repeatedly: each reminder is sent once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as of this day (YYYY-MM-DD); default today.")

    def handle(self, *args, **options):
        today = datetime.date.fromisoformat(options["date"]) if options.get("date") else None
        result = services.receivables_send_reminders(today=today)
        self.stdout.write(
            f"Sent {result['due']} due reminder(s) and {result['digests']} overdue digest(s)."
        )
