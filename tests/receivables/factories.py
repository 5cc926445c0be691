"""Receivables test helpers: a contract in force with a payment plan, built via the services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from contracts import services
from tests.contracts.factories import admitted_customer, approve_all, draft_contract, scan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 9) -> datetime.datetime:
    """A moment in Shanghai, for time_machine."""
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def contract_in_force(*, manager, head, customer=None, amount="300000.00", plan=None, **fields):
    """Draft, plan, approve and sign a contract (B tier: in force once signed)."""
    customer = customer or admitted_customer(manager=manager, tier="B")
    contract = draft_contract(owner=manager, customer=customer, amount=amount, **fields)
    if plan:
        set_plan(contract, manager, plan)
    services.contract_submit(contract=contract, submitted_by=manager)
    approve_all(contract, head)
    services.contract_mark_signed(contract=contract, signed_by=manager, signed_scan=scan())
    contract.refresh_from_db()
    return contract


def set_plan(contract, user, plan):
    """plan: [(due date, amount), ...]"""
    return services.plan_set(
        contract=contract,
        set_by=user,
        instalments=[{"due_date": due, "amount": Decimal(str(amount))} for due, amount in plan],
    )


def pay(contract, user, amount, received_on, *, confirm_by=None):
    collection = services.collection_record(
        contract=contract,
        recorded_by=user,
        received_on=received_on,
        amount=Decimal(str(amount)),
        reference="BANK-1",
    )
    if confirm_by is not None:
        services.collection_confirm(collection=collection, confirmed_by=confirm_by)
    return collection
