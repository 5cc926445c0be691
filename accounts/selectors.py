"""Reads that more than one view needs."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from django.db.models import Q

from .models import Customer
from .validators import normalize_credit_code

# Legal-form words that do not tell two companies apart.
_NAME_NOISE = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|公司|分公司|co\.?|ltd\.?|limited|inc\.?|corp\.?"
    r"|group|[\s()（）·.,，、-])",
    re.IGNORECASE,
)
NEAR_DUPLICATE_RATIO = 0.85


def name_core(name: str) -> str:
    """Return the distinctive part of a customer name, for the near-duplicate check."""
    return _NAME_NOISE.sub("", name or "").lower()


def possible_duplicates(
    *, name: str, credit_code: str = "", exclude_pk: int | None = None
) -> list[Customer]:
    """Return existing customers with the same credit code or a near-identical name."""
    code = normalize_credit_code(credit_code)
    core = name_core(name)
    query = Q()
    if code:
        query |= Q(credit_code=code)
    if len(core) >= 2:
        query |= Q(name__icontains=core[:2])
    if not query:
        return []
    candidates = Customer.objects.filter(query).select_related("department")
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for customer in candidates[:200]:
        same_code = bool(code) and customer.credit_code == code
        similar = SequenceMatcher(None, core, name_core(customer.name)).ratio()
        if same_code or (core and similar >= NEAR_DUPLICATE_RATIO):
            found.append(customer)
    return found[:10]


def duplicate_outside_scope(department) -> str:
    """How a duplicate the user may not see is named: by its department only. The customer
    form's duplicate list and the Excel import both say it so."""
    from django.utils.translation import gettext as _

    return _("A customer of %(department)s outside your scope; ask that department's head.") % {
        "department": department if department is not None else "—"
    }


def _contact_source_paths() -> list[str]:
    """Dotted paths of functions giving more "last contact" subqueries (visits, feedback)."""
    from django.conf import settings

    return getattr(settings, "POOL_CONTACT_SOURCES", [])


def with_pool_activity(queryset):
    """Annotate last_contact (date of the latest visit, feedback or taking over the customer)
    and last_transaction (date), which the pool's return rules measure from."""
    from django.db.models import DateField, OuterRef, Subquery
    from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate
    from django.utils.module_loading import import_string

    from .models import AssignmentChange, ManagerRole, Transaction

    took_over = Subquery(
        AssignmentChange.objects.filter(
            customer=OuterRef("pk"),
            role=ManagerRole.PRIMARY,
            new_user=OuterRef("primary_manager"),
        )
        .order_by("-changed_at")
        .values("changed_at")[:1]
    )
    start = Coalesce(TruncDate(took_over), TruncDate("created_at"), output_field=DateField())
    sources = [start]
    for path in _contact_source_paths():
        for subquery in import_string(path)():
            # Greatest() is NULL on SQLite if any argument is: fall back to the start date.
            sources.append(Coalesce(Cast(subquery, DateField()), start, output_field=DateField()))
    last_contact = Greatest(*sources) if len(sources) > 1 else start
    return queryset.annotate(
        last_contact=last_contact,
        last_transaction=Coalesce(
            Subquery(
                Transaction.objects.filter(customer=OuterRef("pk"))
                .order_by("-date")
                .values("date")[:1]
            ),
            start,
            output_field=DateField(),
        ),
    )


def pool_returning_soon(user, *, today=None):
    """Return this manager's warnings of customers that will go back to the pool."""
    from django.utils import timezone

    from .models import PoolWarning

    today = today or timezone.localdate()
    return (
        PoolWarning.objects.filter(
            manager=user, returns_on__gt=today, customer__primary_manager=user
        )
        .select_related("customer")
        .order_by("returns_on")
    )
