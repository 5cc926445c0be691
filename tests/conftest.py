"""The standard users of each role, shared by every app's tests.

Departments "east" and "north" each have a head and account managers; finance, executive and
admin see everything; the outsider is an active user with no role at all.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.permissions import Role
from tests.factories import DepartmentFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache: ids are reused after a rollback, and a cached
    session or role of an earlier test's user must not answer for this test's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def east(db):
    return DepartmentFactory(name="华东大客户部", code="east")


@pytest.fixture
def north(db):
    return DepartmentFactory(name="华北大客户部", code="north")


def _head_of(department, username: str):
    user = UserFactory(username=username, department=department, roles=[Role.DEPARTMENT_HEAD])
    department.head = user
    department.save(update_fields=["head"])
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def executive(db):
    return UserFactory(username="gm", roles=[Role.EXECUTIVE])


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", roles=[Role.FINANCE])


@pytest.fixture
def head(east):
    return _head_of(east, "head_east")


@pytest.fixture
def manager(east):
    return UserFactory(username="am_east1", department=east, roles=[Role.ACCOUNT_MANAGER])


@pytest.fixture
def manager2(east):
    return UserFactory(username="am_east2", department=east, roles=[Role.ACCOUNT_MANAGER])


@pytest.fixture
def other_head(north):
    return _head_of(north, "head_north")


@pytest.fixture
def other_manager(north):
    return UserFactory(username="am_north1", department=north, roles=[Role.ACCOUNT_MANAGER])


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def client_for(db):
    """Return a function that gives a test client logged in as the given user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def pytest_collection_modifyitems(config, items):
    """Refuse a committing test that would empty the tables the migrations filled.

    A transaction=True test flushes the database afterwards; without serialized_rollback the
    role groups, tier policies and approval rules of the data migrations are gone for every
    later test.
    """
    offenders = [
        item.nodeid
        for item in items
        for marker in item.iter_markers("django_db")
        if marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback")
    ]
    if offenders:
        raise pytest.UsageError(
            "Use @pytest.mark.django_db(transaction=True, serialized_rollback=True) in: "
            + ", ".join(offenders)
        )
