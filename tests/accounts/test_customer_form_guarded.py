"""The customer form writes archive data only: status changes through its actions, managers
through assignment, tier and score through grading; a POST naming them changes none of them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AssignmentChange, Customer, CustomerStatus
from tests.accounts.test_customer_create import form_data
from tests.factories import CustomerFactory
from tests.helpers import zh

GUARDED = ("status", "tier", "score", "department_id", "primary_manager_id",
           "assistant_manager_id", "chief_manager_id")  # fmt: skip


def guarded_values(customer) -> dict:
    customer.refresh_from_db()
    return {name: getattr(customer, name) for name in GUARDED}


@pytest.fixture
def customer(manager, east):
    return CustomerFactory(
        name="福州海峡机电设备有限公司", credit_code="", department=east,
        primary_manager=manager, status=CustomerStatus.PROSPECT, credit_limit=Decimal("1000000"),
    )  # fmt: skip


def edit_data(customer, **overrides) -> dict:
    data = form_data(customer.department, name=customer.name, credit_code="")
    # Credit fields as they are: they belong to credit requests, tested with those.
    data.update(credit_terms=customer.credit_terms, credit_limit=str(customer.credit_limit))
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "posted",
    [
        {"status": CustomerStatus.ACTIVE},
        {"status": CustomerStatus.TERMINATED},
        {"tier": "A", "score": "99.5"},
        {"department": "north"},
        {"primary_manager": "manager2"},
        {"assistant_manager": "manager2"},
        {"chief_manager": "executive"},
    ],
    ids=lambda posted: "+".join(posted),
)
def test_a_manager_posting_guarded_fields_on_the_edit_form_changes_none_of_them(
    request, client_for, manager, manager2, north, executive, customer, posted
):
    values = {
        key: (
            request.getfixturevalue(value).pk if key.endswith(("manager", "department")) else value
        )
        for key, value in posted.items()
    }
    before = guarded_values(customer)
    response = client_for(manager).post(
        reverse("accounts:customer_edit", args=[customer.pk]),
        edit_data(customer, address="新地址 8 号", **values),
    )
    assert response.status_code == 302  # the archive part was saved ...
    assert guarded_values(customer) == before  # ... and nothing else
    assert customer.address == "新地址 8 号"
    assert AssignmentChange.objects.filter(customer=customer).count() == 0


def test_a_manager_creating_a_customer_cannot_give_it_a_status_tier_score_or_chief(
    client_for, manager, executive
):
    data = form_data(
        manager.department,
        status=CustomerStatus.ACTIVE,
        tier="A",
        score="99",
        chief_manager=executive.pk,
    )
    response = client_for(manager).post(reverse("accounts:customer_create"), data)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.status, customer.tier, customer.score, customer.chief_manager) == (
        CustomerStatus.PROSPECT,
        "",
        None,
        None,
    )


def test_a_head_of_two_departments_may_not_give_a_customer_another_departments_manager(
    client_for, head, north, other_manager
):
    north.head = head
    north.save(update_fields=["head"])
    data = form_data(head.department, primary_manager=other_manager.pk)
    response = client_for(head).post(reverse("accounts:customer_create"), data)
    assert response.status_code == 200
    assert zh(
        "%(user)s belongs to another department; only an admin can assign across departments.",
        user=str(other_manager),
    ) in str(response.context["form"].errors["primary_manager"])
    assert not Customer.objects.exists()


def test_the_primary_and_assistant_manager_must_differ_on_the_create_form(
    client_for, head, manager
):
    data = form_data(head.department, primary_manager=manager.pk, assistant_manager=manager.pk)
    response = client_for(head).post(reverse("accounts:customer_create"), data)
    assert response.status_code == 200
    assert zh("The primary and assistant manager must be two different people.") in str(
        response.context["form"].errors["assistant_manager"]
    )
    assert not Customer.objects.exists()
