from django.core.management.base import BaseCommand

from complaints.services import complaint_check_deadlines


class Command(BaseCommand):
    help = "Mark missed complaint deadlines, notify, escalate once and remind due follow-ups."

    def handle(self, *args, **options):
        summary = complaint_check_deadlines()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in summary.items()))
