"""The customer list and detail pages run a fixed number of queries, whatever the data size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import DocumentKind, ManagerRole
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    QualificationDocumentFactory,
    TransactionFactory,
)

# Generous enough for session, user, roles, filter choices and the bell; fixed whatever the
# number of rows. An N+1 shows up as the two counts differing, long before this bound.
LIST_MAX_QUERIES = 12
DETAIL_MAX_QUERIES = 12
TABS = ["profile", "contacts", "transactions", "documents", "managers", "history"]


def count_queries(client, url, params=None) -> int:
    client.get(url, params)  # warm up: first-request caches (content types, session)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def make_customers(n, *, department, manager, manager2):
    for _ in range(n):
        CustomerFactory(department=department, primary_manager=manager, assistant_manager=manager2)


@pytest.mark.parametrize("role", ["manager", "head", "executive"])
def test_the_list_runs_the_same_queries_for_1_and_50_customers(
    request, client_for, manager, manager2, head, role, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(role))
    url = reverse("accounts:customer_list")
    params = {"per_page": 100}
    make_customers(1, department=manager.department, manager=manager, manager2=manager2)
    one = count_queries(client, url, params)
    make_customers(49, department=manager.department, manager=manager, manager2=manager2)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        response = client.get(url, params)
    assert len(response.context["customers"]) == 50
    assert count_queries(client, url, params) == one


def test_the_list_with_a_search_term_stays_bounded(
    client_for, manager, manager2, django_assert_max_num_queries
):
    make_customers(50, department=manager.department, manager=manager, manager2=manager2)
    client = client_for(manager)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        response = client.get(reverse("accounts:customer_list"), {"q": "Customer", "per_page": 50})
    assert len(response.context["customers"]) == 50


def grow(customer, n, *, head, manager, manager2):
    """Give the customer n of everything a tab lists."""
    for index in range(n):
        ContactFactory(customer=customer)
        TransactionFactory(customer=customer, created_by=manager)
        QualificationDocumentFactory(
            customer=customer,
            kind=list(DocumentKind)[index % len(DocumentKind)],
            uploaded_by=manager,
            verified_by=head,
        )
        new = manager2 if customer.assistant_manager_id != manager2.pk else None
        services.customer_assign_manager(
            customer=customer,
            role=ManagerRole.ASSISTANT,
            user=new,
            assigned_by=head,
            reason=f"调整 {index}",
        )
        customer.refresh_from_db()


@pytest.mark.parametrize("tab", TABS)
def test_the_detail_runs_the_same_queries_for_1_and_30_rows(
    client_for, manager, manager2, head, tab, django_assert_max_num_queries
):
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    client = client_for(head)
    url = customer.get_absolute_url()
    grow(customer, 1, head=head, manager=manager, manager2=manager2)
    one = count_queries(client, url, {"tab": tab})
    grow(customer, 29, head=head, manager=manager, manager2=manager2)
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        response = client.get(url, {"tab": tab})
    assert response.context["contact_count"] == 30
    assert count_queries(client, url, {"tab": tab}) == one
