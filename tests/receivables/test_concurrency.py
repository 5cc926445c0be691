"""Two payments recorded at the same moment never pay one instalment twice; finance confirms a
collection once however many click at once. Runs on SQLite (file-backed) and PostgreSQL."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections

from accounts.errors import BusinessRuleError
from accounts.permissions import Role
from contracts import services
from contracts.models import CollectionAllocation
from tests.factories import UserFactory

from .factories import at, contract_in_force, pay

THREADS = 8
D = datetime.date


def _run_together(work, count):
    barrier = threading.Barrier(count)
    outcomes, lock = [], threading.Lock()

    def run(index):
        try:
            barrier.wait(timeout=30)
            result = work(index)
            with lock:
                outcomes.append(("ok", result))
        except BusinessRuleError as error:
            with lock:
                outcomes.append(("refused", error.message))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            with lock:
                outcomes.append(("error", repr(error)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture(autouse=True)
def file_backed():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a file-backed SQLite test database (config.settings.test has one)")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_payments_never_over_allocate(manager, head):
    with time_machine.travel(at(2026, 2, 10)):
        contract = contract_in_force(manager=manager, head=head, plan=[(D(2026, 3, 1), 300000)])
    with time_machine.travel(at(2026, 2, 10), tick=True):
        outcomes = _run_together(
            lambda index: pay(contract, manager, 100000, D(2026, 2, 9)).pk, THREADS
        )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok"] * 3 + ["refused"] * (THREADS - 3), outcomes
    allocations = CollectionAllocation.objects.filter(instalment__contract=contract)
    total = sum(a.amount for a in allocations)
    assert total == Decimal("300000")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_confirmations_confirm_once(manager, head, east):
    finance = [UserFactory(username=f"fin{n}", roles=[Role.FINANCE]) for n in range(THREADS)]
    with time_machine.travel(at(2026, 2, 10)):
        contract = contract_in_force(manager=manager, head=head, plan=[(D(2026, 3, 1), 300000)])
        collection = pay(contract, manager, 1000, D(2026, 2, 9))
    outcomes = _run_together(
        lambda index: (
            services.collection_confirm(collection=collection, confirmed_by=finance[index]).pk
        ),
        THREADS,
    )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok"] + ["refused"] * (THREADS - 1), outcomes
    collection.refresh_from_db()
    assert collection.confirmed_at is not None
