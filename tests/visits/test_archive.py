"""The quarterly archive check: one-click verification, the overdue list, the weekly reminder."""

from datetime import date

import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from notifications.models import Notification
from visits.models import ArchiveCheck
from visits.services import archive_check_remind, archive_verify

from .factories import active_customer, at

TODAY = date(2026, 11, 23)


def created_on(customer, day):
    Customer.objects.filter(pk=customer.pk).update(created_at=at(day))


def test_verifying_records_who_and_when(manager):
    customer = active_customer(manager)
    with time_machine.travel(at(TODAY), tick=False):
        check = archive_verify(customer=customer, verified_by=manager)
    customer.refresh_from_db()
    assert customer.last_verified_at == check.verified_at == at(TODAY)
    assert check.verified_by == manager
    assert customer.history.order_by("-history_id").first().history_change_reason


def test_the_list_shows_what_is_due_and_overdue(client_for, manager):
    done = active_customer(manager, name="已核")
    due = active_customer(manager, name="待核")
    overdue = active_customer(manager, name="逾期")
    for customer in (done, due, overdue):
        created_on(customer, date(2026, 1, 1))
    Customer.objects.filter(pk=done.pk).update(last_verified_at=at(date(2026, 10, 8)))
    Customer.objects.filter(pk=due.pk).update(last_verified_at=at(date(2026, 8, 8)))
    with time_machine.travel(at(TODAY), tick=False):
        response = client_for(manager).get(reverse("visits:archive_checks"))
    names = [c.name for c in response.context["customers"]]
    assert names == ["逾期", "待核"]
    assert response.content.decode().count('class="table-danger"') == 1


def test_the_one_click_verification_page(client_for, manager, other_manager):
    customer = active_customer(manager)
    url = reverse("visits:archive_verify", args=[customer.pk])
    assert client_for(other_manager).post(url).status_code == 404
    response = client_for(manager).post(url, {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url.startswith(customer.get_absolute_url())
    assert ArchiveCheck.objects.filter(customer=customer, verified_by=manager).exists()


def test_reminders_once_a_week_per_manager(manager, manager2):
    for owner in (manager, manager, manager2):
        created_on(active_customer(owner), date(2026, 1, 1))
    fresh = active_customer(manager2)
    created_on(fresh, date(2026, 11, 1))  # new this quarter: not yet due before the last weeks
    assert archive_check_remind(today=TODAY)["reminded"] == 2
    assert archive_check_remind(today=date(2026, 11, 24))["reminded"] == 0  # same week
    messages = dict(
        Notification.objects.filter(dedup_key__startswith="archive-check:").values_list(
            "recipient__username", "message"
        )
    )
    assert "2" in messages[manager.username]
    # In the last two weeks of the quarter, this quarter's checks are reminded too.
    assert archive_check_remind(today=date(2026, 12, 20))["reminded"] == 2
    assert timezone.localdate() is not None
