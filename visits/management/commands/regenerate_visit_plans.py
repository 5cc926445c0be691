"""Regenerate every active customer's planned visit (set-based, idempotent)."""

from django.core.management.base import BaseCommand

from visits.services import visit_plan_regenerate


class Command(BaseCommand):
    help = "Give every active customer one open planned visit from its tier's interval."

    def handle(self, *args, **options):
        result = visit_plan_regenerate()
        self.stdout.write(
            f"Created {result['created']}, updated {result['updated']}, "
            f"cancelled {result['cancelled']} planned visits."
        )
