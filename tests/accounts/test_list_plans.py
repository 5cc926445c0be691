"""The customer list's queries have the shape each database plans well (bench/README.md)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from accounts.filters import CustomerFilter
from accounts.models import Customer, User
from tests.factories import CustomerFactory


def test_visible_customers_are_one_or_on_postgresql_and_a_union_on_sqlite(head, manager, east):
    mine = CustomerFactory(department=east, primary_manager=manager)
    sql = str(Customer.objects.visible_to(head).query)
    if connection.vendor == "postgresql":
        # Bitmaps of each index OR-ed: a head's department without a key look-up per row.
        assert "UNION" not in sql
    else:
        # SQLite reads each way through its own index (an OR walked the whole table).
        assert "UNION ALL" in sql
    assert list(Customer.objects.visible_to(head)) == [mine]
    assert list(Customer.objects.visible_to(manager)) == [mine]


@pytest.mark.django_db
def test_names_are_indexed_with_the_key_for_the_sort_by_name():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "accounts_customer")
    by_columns = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
    assert ("name", "id") in by_columns
    # The plain index on name it replaces is gone (one index to keep up, not two).
    assert ("name",) not in by_columns


def test_the_manager_choices_are_plain_rows_with_the_names(executive, manager, manager2):
    manager.first_name, manager.last_name = "一", "王"
    manager.save()
    form = CustomerFilter({"manager": str(manager2.pk)}, user=executive).form
    assert form.is_valid()  # the chosen manager is looked up: one User, not one per option
    with mock.patch.object(User, "from_db", side_effect=AssertionError("a User per option")):
        html = str(form["manager"])
    assert f'<option value="{manager.pk}">王一</option>' in html
    assert f'<option value="{manager2.pk}" selected>{manager2}</option>' in html


def test_the_list_filters_by_a_chosen_manager(client_for, executive, manager, manager2, east):
    mine = CustomerFactory(department=east, primary_manager=manager)
    CustomerFactory(department=east, primary_manager=manager2)
    response = client_for(executive).get(reverse("accounts:customer_list"), {"manager": manager.pk})
    assert list(response.context["customers"]) == [mine]
