"""The daily job: expiry on the end date and reminders at 60/30/7 days, each sent once."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils.translation import gettext

from contracts import services
from contracts.models import ContractStatus
from contracts.services import reminder_threshold
from contracts.tasks import contracts_daily_job_task
from notifications.models import Notification

from .factories import admitted_customer, approve_all, draft_contract, scan

START = datetime.date(2026, 1, 1)
END = datetime.date(2026, 12, 31)


def _at(day: datetime.date):
    return time_machine.travel(
        datetime.datetime.combine(day, datetime.time(7, 0), tzinfo=datetime.UTC)
    )


@pytest.fixture
def active_contract(manager, head):
    with _at(datetime.date(2026, 1, 5)):
        customer = admitted_customer(manager=manager, tier="B")
        contract = draft_contract(owner=manager, customer=customer, start_date=START, end_date=END)
        services.contract_submit(contract=contract, submitted_by=manager)
        approve_all(contract, head)
        services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    return contract


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(61, None), (60, 60), (31, 60), (30, 30), (8, 30), (7, 7), (0, 7), (-1, None)],
)
def test_reminder_threshold(days_left, expected):
    assert reminder_threshold(days_left) == expected


def _reminders(user):
    return list(
        Notification.objects.filter(recipient=user, dedup_key__startswith="contract-expiry:")
        .order_by("created_at", "pk")
        .values_list("dedup_key", flat=True)
    )


@pytest.mark.django_db
def test_each_reminder_is_sent_once_across_repeated_daily_runs(active_contract, manager):
    pk = active_contract.pk
    day = datetime.date(2026, 10, 1)
    while day <= datetime.date(2027, 1, 3):
        with _at(day):
            for _run in range(2):  # the job may run twice a day: nothing is sent twice
                services.contracts_daily_job()
        day += datetime.timedelta(days=1)
    assert _reminders(manager) == [
        f"contract-expiry:{pk}:60",
        f"contract-expiry:{pk}:30",
        f"contract-expiry:{pk}:7",
    ]
    active_contract.refresh_from_db()
    assert active_contract.status == ContractStatus.EXPIRED


@pytest.mark.django_db
def test_the_reminders_go_out_on_the_right_days(active_contract, manager):
    for day, expected in [
        (datetime.date(2026, 10, 31), 0),  # 61 days left
        (datetime.date(2026, 11, 1), 1),  # 60
        (datetime.date(2026, 11, 30), 1),  # 31
        (datetime.date(2026, 12, 1), 2),  # 30
        (datetime.date(2026, 12, 23), 2),  # 8
        (datetime.date(2026, 12, 24), 3),  # 7
    ]:
        with _at(day):
            call_command("send_contract_reminders", stdout=StringIO())
            contracts_daily_job_task.delay()
        assert len(_reminders(manager)) == expected, day


@pytest.mark.django_db
def test_a_missed_day_still_sends_the_most_urgent_reminder_once(active_contract, manager):
    with _at(datetime.date(2026, 12, 20)):  # 11 days left: 60 and 30 were never sent
        services.contracts_daily_job()
        services.contracts_daily_job()
    assert _reminders(manager) == [f"contract-expiry:{active_contract.pk}:30"]


@pytest.mark.django_db
def test_contracts_stay_active_through_their_end_date(active_contract):
    with _at(END):
        assert services.contracts_expire() == 0
    with _at(END + datetime.timedelta(days=1)):
        assert services.contracts_expire() == 1
        assert services.contracts_expire() == 0
    active_contract.refresh_from_db()
    assert active_contract.status == ContractStatus.EXPIRED
    assert active_contract.history.first().history_change_reason == gettext("Expired")


@pytest.mark.django_db
def test_drafts_get_no_reminders(manager):
    with _at(datetime.date(2026, 12, 1)):
        customer = admitted_customer(manager=manager)
        draft_contract(owner=manager, customer=customer, start_date=START, end_date=END)
        assert services.contracts_daily_job() == {"expired": 0, "reminders": 0}
