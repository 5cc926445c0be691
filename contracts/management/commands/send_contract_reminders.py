from django.core.management.base import BaseCommand

from contracts import services


class Command(BaseCommand):
    help = (
        "Expire active contracts past their end date and remind owners 60, 30 and 7 days "
        "before the end. Safe to run repeatedly: each reminder is sent once."
    )

    def handle(self, *args, **options):
        result = services.contracts_daily_job()
        self.stdout.write(
            f"Expired {result['expired']} contract(s); sent {result['reminders']} reminder(s)."
        )
