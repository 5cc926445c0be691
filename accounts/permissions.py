"""Roles, and what each role may do. Every role check in the product goes through here."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    """Django group names of the roles (created by a data migration)."""

    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    FINANCE = "finance", _("Finance")
    EXECUTIVE = "executive", _("Executive")


# Roles and headed departments change rarely and are needed on nearly every request: they are
# cached per user, stamped with a generation that any change of a membership or a department
# replaces (roles_changed), so that one cache read answers and a change is seen at once.
ROLES_CACHE_SECONDS = 300
ROLES_GENERATION_KEY = "roles:generation"


def _roles_key(user) -> str:
    return f"roles:user:{user.pk}"


def roles_changed() -> None:
    """Forget every user's cached roles and headed departments: now, and again once the change
    is committed (a read between the change and its commit caches the old rows)."""
    from django.core.cache import cache
    from django.db import transaction

    def new_generation() -> None:
        cache.set(ROLES_GENERATION_KEY, uuid.uuid4().hex, None)

    new_generation()
    transaction.on_commit(new_generation)


def role_names(user) -> frozenset[str]:
    """Return the user's role (group) names, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        _load_roles(user)
        cached = user._role_names
    return cached


def _load_roles(user) -> None:
    """Give the user its group names and the departments it heads, from the cache or else
    from one query (every page needs the first, most the second), for the request."""
    from django.core.cache import cache

    found = cache.get_many([ROLES_GENERATION_KEY, _roles_key(user)])
    generation = found.get(ROLES_GENERATION_KEY)
    entry = found.get(_roles_key(user))
    if generation is not None and entry is not None and entry[0] == generation:
        user._role_names, user._headed_by_link = entry[1], list(entry[2])
        return
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(ROLES_GENERATION_KEY, generation, None):
            generation = cache.get(ROLES_GENERATION_KEY, generation)
    _query_roles(user)
    entry = (generation, user._role_names, tuple(user._headed_by_link))
    cache.set(_roles_key(user), entry, ROLES_CACHE_SECONDS)


def _query_roles(user) -> None:
    from django.contrib.auth.models import Group
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast

    from .models import Department

    groups = (
        Group.objects.filter(user=user)
        .annotate(kind=Value("g"))
        .values_list("kind", "name")
        .order_by()
    )
    headed = (
        Department.objects.filter(head=user)
        .annotate(kind=Value("d"), key=Cast("pk", CharField()))
        .values_list("kind", "key")
        .order_by()
    )
    rows = list(groups.union(headed, all=True))
    user._role_names = frozenset(value for kind, value in rows if kind == "g")
    user._headed_by_link = [int(value) for kind, value in rows if kind == "d"]


def has_role(user, role: str) -> bool:
    return role in role_names(user)


def is_admin(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_superuser


def is_executive(user) -> bool:
    return has_role(user, Role.EXECUTIVE)


def is_finance(user) -> bool:
    return has_role(user, Role.FINANCE)


def is_department_head(user) -> bool:
    return has_role(user, Role.DEPARTMENT_HEAD)


def is_account_manager(user) -> bool:
    return has_role(user, Role.ACCOUNT_MANAGER)


def sees_everything(user) -> bool:
    """Finance, executives and admins see every customer."""
    return is_admin(user) or is_executive(user) or is_finance(user)


def headed_department_ids(user) -> list[int]:
    """Return the ids of the departments this user heads (their own one if they hold the role)."""
    cached = getattr(user, "_headed_department_ids", None)
    if cached is None:
        if not user.is_authenticated:
            return []
        if getattr(user, "_headed_by_link", None) is None:
            _load_roles(user)
        cached = sorted(user._headed_by_link)
        if is_department_head(user) and user.department_id and user.department_id not in cached:
            cached.append(user.department_id)
        user._headed_department_ids = cached
    return cached


def heads_department(user, department_id: int | None) -> bool:
    return (
        department_id is not None
        and is_department_head(user)
        and department_id in headed_department_ids(user)
    )


def manages_customer(user, customer) -> bool:
    return user.pk in (customer.primary_manager_id, customer.assistant_manager_id)


def can_edit_customer(user, customer) -> bool:
    """Managers keep their customers' archive; heads their department's; admins any."""
    if customer.is_terminated:
        return False
    return (
        is_admin(user)
        or manages_customer(user, customer)
        or heads_department(user, customer.department_id)
    )


def can_create_customer(user) -> bool:
    return is_admin(user) or is_account_manager(user) or is_department_head(user)


def can_submit_admission(user, customer) -> bool:
    return can_edit_customer(user, customer)


def can_decide_admission(user, customer) -> bool:
    return is_admin(user) or heads_department(user, customer.department_id)


def can_assign_managers(user, customer) -> bool:
    return not customer.is_terminated and (
        is_admin(user) or heads_department(user, customer.department_id)
    )


def can_terminate(user, customer) -> bool:
    return can_assign_managers(user, customer)


def can_start_handover(user) -> bool:
    """Heads hand over their managers' customers; admins anyone's."""
    return is_admin(user) or is_department_head(user)


def can_handover(user, from_user) -> bool:
    return is_admin(user) or heads_department(user, from_user.department_id)


def can_verify_documents(user, customer) -> bool:
    """Finance or the customer's department head verifies qualification documents (the
    admission checklist); the manager who uploads them does not."""
    return is_admin(user) or is_finance(user) or heads_department(user, customer.department_id)


def can_claim(user, customer) -> bool:
    """Managers (and heads) claim from their own department's pool."""
    return (
        customer.primary_manager_id is None
        and not customer.is_terminated
        and (is_account_manager(user) or is_department_head(user))
        and user.department_id == customer.department_id
    )


def can_release(user, customer) -> bool:
    return (
        not customer.is_terminated
        and customer.primary_manager_id is not None
        and (
            user.pk == customer.primary_manager_id
            or is_admin(user)
            or heads_department(user, customer.department_id)
        )
    )


def can_lock_pool(user, customer) -> bool:
    return can_assign_managers(user, customer)


def require(allowed: bool) -> None:
    """Raise PermissionDenied (403) unless allowed."""
    if not allowed:
        raise PermissionDenied
