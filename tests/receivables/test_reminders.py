"""The reminder job: 7 days before and on the due date, a Monday digest to heads; each once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import call_command

from contracts import services
from notifications.models import Notification

from .factories import at, contract_in_force

pytestmark = pytest.mark.django_db
D = datetime.date
MONDAY = D(2026, 3, 2)


def reminders(user):
    return Notification.objects.filter(recipient=user, dedup_key__startswith="receivable")


@pytest.fixture
def contract(manager, head):
    with time_machine.travel(at(2026, 1, 5)):
        return contract_in_force(
            manager=manager,
            head=head,
            plan=[
                (D(2026, 1, 20), 100000),  # overdue on Monday 2 March
                (MONDAY, 100000),  # due on the day
                (MONDAY + datetime.timedelta(days=7), 50000),  # 7 days ahead
                (MONDAY + datetime.timedelta(days=8), 50000),  # not yet
            ],
        )


def test_running_the_job_twice_sends_each_reminder_once(contract, manager, head):
    with time_machine.travel(at(2026, 3, 2, 7)):
        first = services.receivables_send_reminders()
        second = services.receivables_send_reminders()
        call_command("send_receivable_reminders")
    assert first == {"due": 2, "digests": 1}
    assert second == {"due": 0, "digests": 0}
    assert reminders(manager).count() == 2
    digest = Notification.objects.get(recipient=head, dedup_key__startswith="receivables-overdue")
    assert "1" in digest.message and "100,000.00" in digest.message


def test_the_seven_day_reminder_is_sent_once_over_the_week(contract, manager):
    for day in range(3, 10):  # Tuesday 3 March to Monday 9 March
        with time_machine.travel(at(2026, 3, day, 7)):
            services.receivables_send_reminders()
    keys = set(reminders(manager).values_list("dedup_key", flat=True))
    ids = sorted(contract.instalments.values_list("pk", flat=True))
    assert keys == {
        f"receivable-due:{ids[2]}:7",
        f"receivable-due:{ids[2]}:0",
        f"receivable-due:{ids[3]}:7",
    }


def test_the_digest_goes_out_on_mondays_only(contract, head):
    with time_machine.travel(at(2026, 3, 3, 7)):
        assert services.receivables_send_reminders()["digests"] == 0
    with time_machine.travel(at(2026, 3, 9, 7)):
        assert services.receivables_send_reminders()["digests"] == 1
    assert reminders(head).count() == 1


def test_paid_instalments_are_not_reminded(contract, manager, finance):
    from .factories import pay

    with time_machine.travel(at(2026, 3, 2, 7)):
        pay(contract, manager, 300000, D(2026, 3, 1), confirm_by=finance)
        assert services.receivables_send_reminders() == {"due": 0, "digests": 0}
