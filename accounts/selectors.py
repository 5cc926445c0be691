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
