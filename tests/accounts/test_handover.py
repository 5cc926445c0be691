"""Handover: one atomic action moves all of a departing manager's customers to a successor."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.errors import BusinessRuleError
from accounts.models import AssignmentChange, Customer, Handover, ManagerRole
from notifications.models import Notification
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import assert_in_page, zh


@pytest.fixture
def book(manager, manager2, head):
    """The customers of manager (leaving), in every seat combination, plus one bystander."""
    east = manager.department
    return SimpleNamespace(
        alone=CustomerFactory(department=east, primary_manager=manager),
        assisting=CustomerFactory(department=east, primary_manager=head, assistant_manager=manager),
        with_successor=CustomerFactory(
            department=east, primary_manager=manager, assistant_manager=manager2
        ),
        under_successor=CustomerFactory(
            department=east, primary_manager=manager2, assistant_manager=manager
        ),
        bystander=CustomerFactory(department=east, primary_manager=head),
    )


def seats() -> dict[int, tuple]:
    """Return every customer's (primary, assistant, chief) manager ids, read from the database."""
    return {
        pk: (primary, assistant, chief)
        for pk, primary, assistant, chief in Customer.objects.values_list(
            "pk", "primary_manager", "assistant_manager", "chief_manager"
        )
    }


def snapshot() -> dict:
    return {
        "seats": seats(),
        "changes": AssignmentChange.objects.count(),
        "handovers": Handover.objects.count(),
        "history": Customer.history.count(),
        "notifications": Notification.objects.count(),
    }


def hand_over(from_user, to_user, performed_by, reason="离职交接"):
    return services.manager_handover(
        from_user=from_user, to_user=to_user, performed_by=performed_by, reason=reason
    )


def test_it_moves_primary_and_assistant_seats(book, manager, manager2, head):
    handover = hand_over(manager, manager2, head)
    now = seats()
    assert now[book.alone.pk][:2] == (manager2.pk, None)
    assert now[book.assisting.pk][:2] == (head.pk, manager2.pk)
    # The successor was the assistant: promoted to primary, and the assistant seat empties.
    assert now[book.with_successor.pk][:2] == (manager2.pk, None)
    # The successor was already primary: the assistant seat empties.
    assert now[book.under_successor.pk][:2] == (manager2.pk, None)
    assert now[book.bystander.pk][:2] == (head.pk, None)
    assert not Customer.objects.managed_by(manager).exists()
    assert handover.performed_by == head


def test_it_records_every_seat_change(book, manager, manager2, head):
    handover = hand_over(manager, manager2, head, reason="调岗")
    rows = {
        (change.customer_id, change.role, change.old_user_id, change.new_user_id)
        for change in AssignmentChange.objects.filter(handover=handover)
    }
    assert rows == {
        (book.alone.pk, ManagerRole.PRIMARY, manager.pk, manager2.pk),
        (book.assisting.pk, ManagerRole.ASSISTANT, manager.pk, manager2.pk),
        (book.with_successor.pk, ManagerRole.PRIMARY, manager.pk, manager2.pk),
        (book.with_successor.pk, ManagerRole.ASSISTANT, manager2.pk, None),
        (book.under_successor.pk, ManagerRole.ASSISTANT, manager.pk, None),
    }
    assert set(handover.changes.values_list("changed_by", "reason")) == {(head.pk, "调岗")}


def test_it_notifies_the_successor_once(book, manager, manager2, head):
    handover = hand_over(manager, manager2, head)
    notice = Notification.objects.get(recipient=manager2)
    assert notice.link == handover.get_absolute_url()
    assert (
        zh("%(count)d customers were handed over to you from %(user)s.", count=4, user=manager)
        == notice.message
    )


def test_it_refuses_an_inactive_successor(book, manager, manager2, head):
    manager2.is_active = False
    manager2.save()
    before = snapshot()
    with pytest.raises(BusinessRuleError) as caught:
        hand_over(manager, manager2, head)
    assert caught.value.message == zh(
        "%(user)s is inactive and cannot take customers.", user=manager2
    )
    assert snapshot() == before


def test_it_refuses_a_successor_without_a_managing_role(book, manager, head, east):
    clerk = UserFactory(department=east)
    before = snapshot()
    with pytest.raises(BusinessRuleError):
        hand_over(manager, clerk, head)
    assert snapshot() == before


def test_it_refuses_handing_over_to_oneself(book, manager, head):
    with pytest.raises(BusinessRuleError):
        hand_over(manager, manager, head)


def test_it_refuses_an_empty_reason(book, manager, manager2, head):
    with pytest.raises(BusinessRuleError):
        hand_over(manager, manager2, head, reason="  ")


def test_a_head_cannot_hand_over_to_another_department(book, manager, other_manager, head):
    before = snapshot()
    with pytest.raises(BusinessRuleError) as caught:
        hand_over(manager, other_manager, head)
    assert caught.value.message == zh(
        "A handover to another department needs the head of that department or an admin."
    )
    assert snapshot() == before


def test_an_admin_may_hand_over_across_departments(book, manager, other_manager, admin_user):
    hand_over(manager, other_manager, admin_user)
    assert seats()[book.alone.pk][0] == other_manager.pk


def test_a_head_cannot_take_another_departments_manager(book, other_manager, manager, head):
    with pytest.raises(PermissionDenied):
        hand_over(other_manager, manager, head)


def test_a_manager_cannot_hand_over(book, manager, manager2):
    with pytest.raises(PermissionDenied):
        hand_over(manager, manager2, manager)


@pytest.mark.parametrize(
    "target",
    [
        "accounts.services._move_open_work",
        "accounts.models.AssignmentChange.objects.bulk_create",
        "notifications.services.Notification.objects.create",
    ],
)
def test_a_handover_that_fails_half_way_changes_nothing(
    book, manager, manager2, head, target, django_capture_on_commit_callbacks, mailoutbox
):
    before = snapshot()
    with (
        mock.patch(target, side_effect=RuntimeError("disk full")),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        hand_over(manager, manager2, head)
    assert snapshot() == before
    assert mailoutbox == []


def test_a_failure_on_the_last_customer_rolls_back_the_first(book, manager, manager2, head):
    # Make the bystander (the highest pk, saved last) part of the handover, then fail on it.
    Customer.objects.filter(pk=book.bystander.pk).update(primary_manager=manager)
    before = snapshot()
    original_save = Customer.save

    def save_failing_on_last(self, *args, **kwargs):
        if self.pk == book.bystander.pk:
            raise RuntimeError("constraint violated")
        return original_save(self, *args, **kwargs)

    with (
        mock.patch.object(Customer, "save", save_failing_on_last),
        pytest.raises(RuntimeError),
    ):
        hand_over(manager, manager2, head)
    assert snapshot() == before


def test_the_head_hands_over_through_the_page(client_for, book, manager, manager2, head):
    response = client_for(head).post(
        reverse("accounts:handover_create"),
        {"from_user": manager.pk, "to_user": manager2.pk, "reason": "离职"},
    )
    handover = Handover.objects.get()
    assert response.status_code == 302
    assert response["Location"] == handover.get_absolute_url()
    listing = client_for(head).get(handover.get_absolute_url())
    for customer in (book.alone, book.assisting, book.with_successor, book.under_successor):
        assert customer.name in listing.content.decode()
    assert book.bystander.name not in listing.content.decode()


def test_the_page_explains_an_inactive_successor(client_for, book, manager, manager2, head):
    manager2.is_active = False
    manager2.save()
    before = snapshot()
    response = client_for(head).post(
        reverse("accounts:handover_create"),
        {"from_user": manager.pk, "to_user": manager2.pk, "reason": "离职"},
    )
    assert response.status_code == 200
    assert_in_page(response, zh("%(user)s is inactive and cannot take customers.", user=manager2))
    assert snapshot() == before


def test_the_page_does_not_offer_another_departments_staff(client_for, head, other_manager):
    response = client_for(head).get(reverse("accounts:handover_create"))
    form = response.context["form"]
    assert other_manager not in form.fields["from_user"].queryset
    assert other_manager not in form.fields["to_user"].queryset


@pytest.mark.parametrize(
    ("role", "offered"),
    [("head", True), ("admin_user", True), ("manager", False), ("executive", False)],
)
def test_the_list_offers_the_handover_to_whom_the_page_allows(request, client_for, role, offered):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(request.getfixturevalue(role))
    url = reverse("accounts:customer_list")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert (reverse("accounts:handover_create") in response.content.decode()) == offered
    # From the cached roles, not Django's permission tables.
    assert not any("auth_permission" in query["sql"] for query in queries.captured_queries)
