"""The one order in which every conditional transition takes its row locks.

A service that changes guarded state (pool claim and release, manager assignment, handover,
admission decision, contract approval decision, collection confirmation, complaint transition,
appeal decision) calls ``lock_in_order`` first thing inside its ``transaction.atomic`` and only
then reads the state it checks and writes:

1. the customer rows concerned, by ascending id;
2. then the user rows whose counts the transition checks or changes (a manager's caps), by
   ascending id;
3. then the object of the transition itself (the admission request, approval step, collection,
   complaint or appeal), whose conditional ``UPDATE … WHERE state = …`` decides who wins.

Two transactions that lock overlapping rows take them in the same order, so one waits for the
other and neither can wait for a row the other will only lock later: no deadlock. The locks are
``FOR NO KEY UPDATE``: inserting a row that refers to a locked one (an assignment change, a
history row, a notification) takes only a key-share lock, which they do not block, so those
inserts add no wait of their own.

On SQLite ``select_for_update`` is a no-op; the IMMEDIATE transactions of config.settings take
the database's write lock at the start of every transaction, which serialises writers whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from config.jobs import chunks


def _ids(items: Iterable) -> list[int]:
    return sorted({getattr(item, "pk", item) for item in items if item is not None})


def lock_in_order(
    *,
    customers: Iterable = (),
    users: Iterable = (),
    subject: models.Model | None = None,
):
    """Lock customers, then users, then the subject, in that order; return the fresh rows.

    Accepts instances or ids (None is skipped). Returns ``(customers_by_id, subject)``: the
    customers and the subject as they are now, read under the lock, so the caller checks the
    current state rather than the one its request loaded.
    """
    from .models import Customer, User

    locked_customers = {}
    for part in chunks(_ids(customers)):  # ascending ids, part after part
        locked_customers.update(
            (customer.pk, customer)
            for customer in Customer._base_manager.select_for_update(no_key=True)
            .filter(pk__in=part)
            .order_by("pk")
        )
    for part in chunks(_ids(users)):
        list(
            User._base_manager.select_for_update(no_key=True)
            .filter(pk__in=part)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    fresh_subject = None
    if subject is not None:
        fresh_subject = (
            type(subject)._base_manager.select_for_update(no_key=True).filter(pk=subject.pk).first()
        )
    return locked_customers, fresh_subject
