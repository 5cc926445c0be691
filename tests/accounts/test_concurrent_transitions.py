"""Twenty requests race for one pool claim, one release, one manager's last free seats.

In-process (Django's test client in twenty threads, each with its own session and database
connection), on whichever database the settings point at: SQLite's file test database by
default, PostgreSQL with DATABASE_URL=postgres://…. Every request gets an answer with a message
(a redirect, or the form again); none ends in an error, and the guarded state changes once.
The same race over HTTP through a multi-worker server: test_claim_race_server.py.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from accounts.models import AssignmentChange, AssignmentKind, Customer, PoolPolicy
from accounts.permissions import Role
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import zh

THREADS = 20


def at_once(clients: list[Client], send) -> list[tuple[int, list[tuple[str, str]], str]]:
    """Call send(client, index) in every thread at the same moment; return for each request
    its status, the messages it left (level, text) and its page."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = send(clients[index], index)
            # Not response.context: the test client gathers it from a signal every thread sends.
            found = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
            results[index] = (response.status_code, found, response.content.decode())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def signed_in(users) -> list[Client]:
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


@pytest.fixture
def needs_file_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a file-backed test database (config.settings.test gives SQLite one)")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_claims_at_once_give_one_owner_and_nineteen_messages(east, needs_file_database):
    managers = [
        UserFactory(username=f"am_race{n}", department=east, roles=[Role.ACCOUNT_MANAGER])
        for n in range(THREADS)
    ]
    customer = CustomerFactory(department=east, primary_manager=None)
    url = reverse("accounts:pool_claim", args=[customer.pk])

    results = at_once(signed_in(managers), lambda client, _i: client.post(url))

    assert [status for status, _m, _p in results] == [302] * THREADS
    customer.refresh_from_db()
    assert customer.primary_manager in managers
    assert (
        AssignmentChange.objects.filter(customer=customer, kind=AssignmentKind.CLAIM).count() == 1
    )
    messages = sorted(text for _s, found, _p in results for _level, text in found)
    won = zh("%(name)s is now yours.", name=customer.name)
    refused = zh("Another manager has just claimed this customer.")
    assert messages == sorted([won] + [refused] * (THREADS - 1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_releases_at_once_release_once_and_tell_the_others(east, needs_file_database):
    heads = [
        UserFactory(username=f"head_race{n}", department=east, roles=[Role.DEPARTMENT_HEAD])
        for n in range(THREADS)
    ]
    owner = UserFactory(username="am_owner", department=east, roles=[Role.ACCOUNT_MANAGER])
    customer = CustomerFactory(department=east, primary_manager=owner)
    url = reverse("accounts:pool_release", args=[customer.pk])

    results = at_once(
        signed_in(heads),
        lambda client, i: client.post(url, {"reason": f"业务收缩{i}"}),
    )

    customer.refresh_from_db()
    assert customer.primary_manager is None
    assert (
        AssignmentChange.objects.filter(customer=customer, kind=AssignmentKind.RELEASE).count() == 1
    )
    released = zh("The customer was released to the pool.")
    already = zh("This customer is already in the pool.")
    outcomes = []
    for status, found, page in results:
        assert status in (200, 302)
        texts = [text for _level, text in found]
        if released in texts:
            outcomes.append("released")
        else:
            # Either redirected to the pool with the message, or the form again with it.
            assert already in texts or already in page, (status, texts)
            outcomes.append("refused")
    assert sorted(outcomes) == ["refused"] * (THREADS - 1) + ["released"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_assignments_at_once_to_one_manager_respect_the_cap(east, needs_file_database):
    """Twenty heads each give a different pool customer to the same manager, who may own
    three: three assignments hold, seventeen are refused with the cap's message."""
    PoolPolicy.objects.update(max_customers_per_manager=3)
    heads = [
        UserFactory(username=f"head_cap{n}", department=east, roles=[Role.DEPARTMENT_HEAD])
        for n in range(THREADS)
    ]
    manager = UserFactory(username="am_capped", department=east, roles=[Role.ACCOUNT_MANAGER])
    customers = [CustomerFactory(department=east, primary_manager=None) for _ in range(THREADS)]

    def assign(client, index):
        return client.post(
            reverse("accounts:customer_assign", args=[customers[index].pk]),
            {"role": "primary_manager", "user": manager.pk, "reason": "分配"},
        )

    results = at_once(signed_in(heads), assign)

    assert Customer.objects.filter(primary_manager=manager).count() == 3
    assert AssignmentChange.objects.filter(new_user=manager).count() == 3
    changed = zh("Manager changed.")
    capped = zh(
        "%(user)s already owns %(count)d customers, the most allowed.", user=manager, count=3
    )
    outcomes = sorted(
        "changed" if any(text == changed for _l, text in found) else "capped"
        for _status, found, page in results
        if any(text == changed for _l, text in found) or capped in page
    )
    assert outcomes == ["capped"] * (THREADS - 3) + ["changed"] * 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_claims_and_assignments_of_the_same_customers_at_once_never_deadlock(
    east, needs_file_database
):
    """Ten managers each claim a pool customer while ten heads give each of those customers to
    that same manager: the claim and the assignment lock the customer first, then the
    manager, so neither waits for the other's second lock. Each customer gets its manager
    once; the later request of each pair is told why nothing changed."""
    from accounts import services
    from accounts.errors import BusinessRuleError

    pairs = THREADS // 2
    managers = [
        UserFactory(username=f"am_mix{n}", department=east, roles=[Role.ACCOUNT_MANAGER])
        for n in range(pairs)
    ]
    heads = [
        UserFactory(username=f"head_mix{n}", department=east, roles=[Role.DEPARTMENT_HEAD])
        for n in range(pairs)
    ]
    customers = [CustomerFactory(department=east, primary_manager=None) for _ in range(pairs)]
    # Each thread holds the customer as its page loaded it, before any of them changes it.
    jobs = [("claim", n) for n in range(pairs)] + [("assign", n) for n in range(pairs)]
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        kind, n = jobs[index]
        customer = Customer.objects.get(pk=customers[n].pk)
        try:
            barrier.wait(timeout=30)
            if kind == "claim":
                services.pool_claim(customer=customer, user=managers[n])
            else:
                services.customer_assign_manager(
                    customer=customer,
                    role="primary_manager",
                    user=managers[n],
                    assigned_by=heads[n],
                    reason="分配",
                )
            outcomes[index] = "done"
        except BusinessRuleError as error:
            outcomes[index] = error.message
        except BaseException as error:  # noqa: BLE001 - a deadlock or any other server error
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    refusals = {
        zh("This customer is already yours."),
        zh("Nothing to change: that is already the manager."),
    }
    for n, customer in enumerate(customers):
        customer.refresh_from_db()
        assert customer.primary_manager == managers[n]
        assert AssignmentChange.objects.filter(customer=customer).count() == 1
        pair = sorted([outcomes[n], outcomes[pairs + n]], key=lambda o: o != "done")
        assert pair[0] == "done" and pair[1] in refusals, pair
