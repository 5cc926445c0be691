from django.core.management.base import BaseCommand

from dashboard.sales import refresh_sales_summary


class Command(BaseCommand):
    help = "Rebuild the monthly sales summary that the reports and home pages read."

    def handle(self, *args, **options):
        rows = refresh_sales_summary()
        self.stdout.write(self.style.SUCCESS(f"Sales summary rebuilt: {rows} rows."))
