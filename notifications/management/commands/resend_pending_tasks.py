from django.core.management.base import BaseCommand

from notifications.services import pending_tasks_resend


class Command(BaseCommand):
    help = "Re-send the jobs recorded while the Celery broker was unreachable."

    def handle(self, *args, **options):
        sent = pending_tasks_resend()
        self.stdout.write(f"{sent} job(s) sent.")
