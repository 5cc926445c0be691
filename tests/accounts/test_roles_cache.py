"""Roles and headed departments come from the cache, and every change is seen at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import permissions
from accounts.models import User
from accounts.permissions import Role
from tests.factories import CustomerFactory, DepartmentFactory, UserFactory


def fresh(user) -> User:
    """The user as the next request loads it (nothing cached on the object)."""
    return User.objects.get(pk=user.pk)


def test_a_second_request_reads_the_roles_from_the_cache(head, django_assert_num_queries):
    assert permissions.is_department_head(fresh(head))
    again = fresh(head)
    with django_assert_num_queries(0):
        assert permissions.is_department_head(again)
        assert permissions.headed_department_ids(again) == [head.department_id]


def test_a_role_given_is_seen_at_once(manager):
    assert not permissions.is_department_head(fresh(manager))
    manager.groups.add(Group.objects.get(name=Role.DEPARTMENT_HEAD))
    assert permissions.is_department_head(fresh(manager))


def test_a_role_given_from_the_group_side_is_seen_at_once(manager):
    assert not permissions.is_finance(fresh(manager))
    Group.objects.get(name=Role.FINANCE).user_set.add(manager)
    assert permissions.is_finance(fresh(manager))


def test_a_role_taken_away_is_seen_at_once(head):
    assert permissions.is_department_head(fresh(head))
    head.groups.remove(Group.objects.get(name=Role.DEPARTMENT_HEAD))
    assert not permissions.is_department_head(fresh(head))
    head.groups.add(Group.objects.get(name=Role.DEPARTMENT_HEAD))
    head.groups.clear()
    assert permissions.role_names(fresh(head)) == frozenset()


def test_a_deleted_role_group_is_seen_at_once(executive):
    assert permissions.sees_everything(fresh(executive))
    Group.objects.get(name=Role.EXECUTIVE).delete()
    assert not permissions.sees_everything(fresh(executive))


def test_a_new_department_head_is_seen_at_once(head, east):
    other = DepartmentFactory(name="华南大客户部", code="south")
    assert permissions.headed_department_ids(fresh(head)) == [east.pk]
    other.head = head
    other.save()
    assert permissions.headed_department_ids(fresh(head)) == sorted([east.pk, other.pk])
    other.head = None
    other.save()
    assert permissions.headed_department_ids(fresh(head)) == [east.pk]


def test_one_users_roles_never_answer_for_another(executive, manager):
    assert permissions.sees_everything(fresh(executive))
    assert not permissions.sees_everything(fresh(manager))
    assert permissions.role_names(fresh(manager)) == frozenset({Role.ACCOUNT_MANAGER})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_cache_is_invalidated_again_when_the_change_commits(django_db_blocker):
    from django.core.cache import cache
    from django.db import transaction

    user = UserFactory(username="committed")
    with transaction.atomic():
        user.groups.add(Group.objects.get(name=Role.FINANCE))
        during = cache.get(permissions.ROLES_GENERATION_KEY)
    # A request between the change and the commit cached the old rows under `during`.
    assert cache.get(permissions.ROLES_GENERATION_KEY) != during
    assert permissions.is_finance(fresh(user))


def test_the_list_follows_a_headship_change(client_for, head, east, north):
    """End to end: the north department's customers appear once the user heads it."""
    north_customer = CustomerFactory(department=north, name="北方重工")
    client = client_for(head)
    url = reverse("accounts:customer_list")
    assert north_customer not in client.get(url).context["customers"]
    north.head = head
    north.save()
    assert north_customer in client.get(url).context["customers"]


def test_a_page_reads_session_and_roles_from_the_cache(client_for, head):
    client = client_for(head)
    url = reverse("notifications:list")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "django_session" not in tables
    assert "auth_group" not in tables
