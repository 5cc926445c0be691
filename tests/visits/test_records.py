"""Visit records: the two-participant rule, completing the plan, contacts, permissions, pages."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.errors import BusinessRuleError
from tests.factories import ContactFactory
from tests.helpers import zh
from visits.models import PlannedVisit, VisitRecord, VisitStatus
from visits.services import TooFewParticipantsError, visit_plan_regenerate, visit_record_create

from .factories import active_customer, at

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(TODAY), tick=False):
        yield


def record(customer, by, participants, **fields):
    fields.setdefault("date", TODAY)
    fields.setdefault("purpose", "季度回顾")
    fields.setdefault("summary", "顺利")
    return visit_record_create(
        customer=customer, recorded_by=by, participants=participants, **fields
    )


def test_the_first_visit_needs_two_staff_participants(manager, manager2):
    customer = active_customer(manager)

    with pytest.raises(TooFewParticipantsError):
        record(customer, manager, [manager])
    with pytest.raises(TooFewParticipantsError):
        record(customer, manager, [manager, manager])  # the same person twice is one

    assert not VisitRecord.objects.exists()
    first = record(customer, manager, [manager, manager2])
    assert set(first.participants.all()) == {manager, manager2}
    # Later visits may be made alone.
    record(customer, manager, [manager], date=date(2026, 11, 23))
    assert VisitRecord.objects.filter(customer=customer).count() == 2


def test_recording_completes_the_plan_and_plans_the_next_by_interval(manager, manager2):
    customer = active_customer(manager, tier="A")
    visit_plan_regenerate()
    planned = PlannedVisit.objects.get(customer=customer)

    visit = record(customer, manager, [manager, manager2], date=date(2026, 11, 20))

    planned.refresh_from_db()
    assert planned.status == VisitStatus.COMPLETED
    assert planned.completed_by_record == visit and planned.closed_by == manager
    following = PlannedVisit.objects.open().get(customer=customer)
    assert following.due_date == date(2026, 12, 20)  # 20 Nov + 30 days (tier A)
    assert not following.date_fixed


def test_a_next_visit_date_on_the_record_sets_the_plan(manager, manager2):
    customer = active_customer(manager, tier="C")
    visit_plan_regenerate()

    record(customer, manager, [manager, manager2], next_visit_date=date(2026, 12, 5))

    following = PlannedVisit.objects.open().get(customer=customer)
    assert following.due_date == date(2026, 12, 5) and following.date_fixed
    assert PlannedVisit.objects.filter(customer=customer).count() == 2


def test_only_the_customers_own_contacts_can_be_chosen(manager, manager2):
    customer = active_customer(manager)
    stranger = ContactFactory(customer=active_customer(manager2))
    with pytest.raises(BusinessRuleError):
        record(customer, manager, [manager, manager2], contacts=[stranger])
    own = ContactFactory(customer=customer)
    visit = record(customer, manager, [manager, manager2], contacts=[own])
    assert list(visit.contacts.all()) == [own]


def test_a_visit_cannot_be_recorded_ahead_of_time(manager, manager2):
    customer = active_customer(manager)
    with pytest.raises(BusinessRuleError):
        record(customer, manager, [manager, manager2], date=date(2026, 11, 24))


def test_others_cannot_record_visits(manager, manager2, other_manager):
    customer = active_customer(manager)
    with pytest.raises(PermissionDenied):
        record(customer, other_manager, [other_manager, manager2])


def test_the_form_shows_the_two_participant_rule_on_the_field(client_for, manager):
    customer = active_customer(manager)
    response = client_for(manager).post(
        reverse("visits:record_create", args=[customer.pk]),
        {
            "date": "2026-11-23",
            "kind": "on_site",
            "participants": [manager.pk],
            "purpose": "拜访",
            "summary": "首次拜访",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["participants"]
    assert errors == [
        zh(
            "The first visit to a newly admitted customer needs at least "
            "%(count)d staff participants.",
            count=2,
        )
    ]
    assert not VisitRecord.objects.exists()


def test_the_form_records_a_visit(client_for, manager, manager2):
    customer = active_customer(manager, tier="B")
    contact = ContactFactory(customer=customer)
    visit_plan_regenerate()
    response = client_for(manager).post(
        reverse("visits:record_create", args=[customer.pk]),
        {
            "date": "2026-11-23",
            "kind": "phone",
            "participants": [manager.pk, manager2.pk],
            "contacts": [contact.pk],
            "purpose": "拜访",
            "summary": "首次拜访",
            "satisfaction": "4",
        },
    )
    visit = VisitRecord.objects.get()
    assert response.status_code == 302 and response.url == visit.get_absolute_url()
    assert visit.satisfaction == 4 and list(visit.contacts.all()) == [contact]
    assert PlannedVisit.objects.open().get(customer=customer).due_date == date(2027, 1, 22)


def test_the_customer_page_shows_the_visit_timeline(client_for, manager, manager2):
    customer = active_customer(manager)
    record(customer, manager, [manager, manager2], purpose="年度合作规划")
    response = client_for(manager).get(customer.get_absolute_url() + "?tab=visits")
    assert response.status_code == 200
    assert "年度合作规划" in response.content.decode()
    assert 'data-testid="visit-timeline"' in response.content.decode()


def test_a_record_of_another_managers_customer_is_not_found(
    client_for, manager, manager2, other_manager
):
    customer = active_customer(manager)
    visit = record(customer, manager, [manager, manager2])
    assert client_for(other_manager).get(visit.get_absolute_url()).status_code == 404
    assert client_for(manager).get(visit.get_absolute_url()).status_code == 200
