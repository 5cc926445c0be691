"""Twenty entitled people approve the same step at the same moment: one decision, no 500s.

Runs against whichever database the settings point at: SQLite by default, PostgreSQL with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_contracts.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from accounts.permissions import Role
from contracts.models import StepStatus
from tests.concurrency import post_at_once
from tests.factories import UserFactory

from .factories import admitted_customer, current_step, submitted_contract

THREADS = 20


def _in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_approvals_give_exactly_one_decision(manager, east):
    if _in_memory_sqlite():
        pytest.skip(
            "SQLite's shared-cache in-memory test database cannot serve threads; "
            "config.settings.test gives SQLite a file-backed test database"
        )
    heads = [
        UserFactory(username=f"head{n}", department=east, roles=[Role.DEPARTMENT_HEAD])
        for n in range(THREADS)
    ]
    customer = admitted_customer(manager=manager)
    contract = submitted_contract(owner=manager, customer=customer)
    step = current_step(contract)
    url = reverse("contracts:decide", args=[contract.pk, step.pk])
    results, errors = post_at_once(heads, url, {"decision": "approve", "comment": "ok"})
    assert not errors, errors
    assert [status for status, _levels in results] == [302] * THREADS
    levels = sorted(level for _status, levels in results for level in levels)
    assert levels == ["success"] + ["warning"] * (THREADS - 1)
    step.refresh_from_db()
    assert step.status == StepStatus.APPROVED
    assert step.decided_by in heads
    contract.refresh_from_db()
    assert contract.status == "approved"
    assert contract.steps.filter(status=StepStatus.APPROVED).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_drafts_get_unique_gap_free_numbers(manager):
    if _in_memory_sqlite():
        pytest.skip("needs a file-backed SQLite test database (config.settings.test)")
    from django.utils import timezone

    from .factories import draft_contract

    customer = admitted_customer(manager=manager)
    barrier = threading.Barrier(10)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def draft() -> None:
        try:
            barrier.wait(timeout=30)
            numbers.append(draft_contract(owner=manager, customer=customer).number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draft) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    year = timezone.localdate().year
    assert sorted(numbers) == [f"HT-{year}-{n:04d}" for n in range(1, 11)]
