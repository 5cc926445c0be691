"""Twenty finance users decide the same credit request at once: one decision, no 500s.

Runs against whichever database the settings point at (SQLite by default, PostgreSQL with
DATABASE_URL).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from accounts.permissions import Role
from contracts import services
from contracts.models import CreditRequestStatus
from tests.concurrency import post_at_once
from tests.contracts.factories import admitted_customer
from tests.factories import UserFactory

THREADS = 20


@pytest.mark.parametrize("limit", ["1000000", "6000000"], ids=["finance-only", "then-executive"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_decisions_give_exactly_one(manager, limit):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's in-memory test database cannot serve threads")
    deciders = [UserFactory(username=f"fin{n}", roles=[Role.FINANCE]) for n in range(THREADS)]
    customer = admitted_customer(manager=manager)
    credit_request = services.credit_request_submit(
        customer=customer,
        proposed_by=manager,
        credit_terms="credit",
        credit_limit=Decimal(limit),
        reason="年度框架合同",
    )
    url = reverse("contracts:credit_request_decide", args=[credit_request.pk])
    results, errors = post_at_once(
        deciders, url, {"decision": "approve", "comment": "ok"}, language="en"
    )
    assert not errors, errors
    assert [status for status, _levels in results] == [302] * THREADS
    levels = sorted(level for _status, levels in results for level in levels)
    assert levels == ["success"] + ["warning"] * (THREADS - 1)
    credit_request.refresh_from_db()
    customer.refresh_from_db()
    if limit == "1000000":
        assert credit_request.status == CreditRequestStatus.APPROVED
        assert customer.credit_limit == Decimal(limit)
        assert customer.history.filter(credit_limit=Decimal(limit)).count() == 1
    else:
        assert credit_request.status == CreditRequestStatus.PENDING_EXECUTIVE
        assert customer.credit_limit == 0
