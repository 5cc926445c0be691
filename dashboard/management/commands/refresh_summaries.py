from django.core.management.base import BaseCommand

from dashboard.summaries import refresh_summaries


class Command(BaseCommand):
    help = (
        "Rebuild the monthly sales, visit and feedback summaries and the early-warning list "
        "the reports and home pages read."
    )

    def handle(self, *args, **options):
        counts = refresh_summaries()
        self.stdout.write(
            self.style.SUCCESS(
                f"Summaries rebuilt: {counts['sales']} sales rows, {counts['visits']} visit rows, "
                f"{counts['feedback']} feedback rows, {counts['risks']} risks."
            )
        )
