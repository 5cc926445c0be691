"""URL × role matrix: outsiders get 404 (no leak), insiders without the right get 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import admitted_customer, submitted_contract

pytestmark = pytest.mark.django_db

# (url name, extra args, method, {user fixture: expected status})
MATRIX = [
    ("contracts:detail", [], "get", {"manager": 200, "head": 200, "finance": 200,
                                     "executive": 200, "manager2": 404, "other_head": 404,
                                     "other_manager": 404, "outsider": 404}),
    ("contracts:edit", [], "get", {"manager": 403, "head": 403, "other_head": 404,
                                   "outsider": 404}),
    ("contracts:sign", [], "get", {"finance": 403, "other_manager": 404, "outsider": 404}),
    ("contracts:file", [], "get", {"manager": 403, "other_head": 404, "outsider": 404}),
    ("contracts:terminate", [], "get", {"manager": 403, "finance": 403, "head": 200,
                                        "outsider": 404}),
    ("contracts:submit", [], "post", {"head": 403, "other_manager": 404, "outsider": 404}),
    ("contracts:download", ["text"], "get", {"manager": 404, "outsider": 404}),
]  # fmt: skip


@pytest.fixture
def contract(manager, head, finance, executive):
    return submitted_contract(owner=manager, customer=admitted_customer(manager=manager))


@pytest.mark.parametrize(("name", "extra", "method", "expected"), MATRIX)
def test_access_matrix(request, client_for, contract, name, extra, method, expected):
    url = reverse(name, args=[contract.pk, *extra])
    for fixture, status in expected.items():
        client = client_for(request.getfixturevalue(fixture))
        response = getattr(client, method)(url)
        assert response.status_code == status, (fixture, status, response.status_code)


def test_deciding_a_step_of_an_invisible_contract_is_404(client_for, contract, other_head):
    step = contract.steps.get(order=1)
    url = reverse("contracts:decide", args=[contract.pk, step.pk])
    assert client_for(other_head).post(url, {"decision": "approve"}).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, contract):
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert response.status_code == 302 and "/login/" in response.url


def test_the_detail_page_query_count_does_not_grow_with_rounds(
    client_for, contract, manager, head, django_assert_max_num_queries
):
    from contracts import services

    client = client_for(manager)
    url = reverse("contracts:detail", args=[contract.pk])
    with django_assert_max_num_queries(30) as one:
        client.get(url)
    for _ in range(3):
        step = contract.steps.get(status="pending")
        services.step_decide(step=step, decided_by=head, approve=False, comment="no")
        services.contract_submit(contract=contract, submitted_by=manager)
    with django_assert_max_num_queries(30) as four:
        client.get(url)
    assert len(four.captured_queries) == len(one.captured_queries), (
        len(one.captured_queries),
        len(four.captured_queries),
    )
