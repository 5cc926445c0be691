"""Contracts test helpers: an admitted customer and contracts built through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.models import CustomerStatus
from contracts import services
from tests.factories import CustomerFactory, pdf_upload


def admitted_customer(*, manager, tier: str = "B", **fields):
    return CustomerFactory(
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.ACTIVE,
        tier=tier,
        **fields,
    )


def draft_contract(*, owner, customer, amount="500000.00", discount="0", **fields):
    values = {
        "title": "年度供货合同",
        "amount": Decimal(amount),
        "discount_percent": Decimal(discount),
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2026, 12, 31),
        "payment_terms": "30% advance, 70% on delivery",
    }
    values.update(fields)
    return services.contract_create(customer=customer, created_by=owner, **values)


def submitted_contract(*, owner, customer, **fields):
    contract = draft_contract(owner=owner, customer=customer, **fields)
    services.contract_submit(contract=contract, submitted_by=owner)
    contract.refresh_from_db()
    return contract


def current_step(contract):
    return contract.steps.get(status="pending")


def approve_all(contract, *deciders):
    for user in deciders:
        services.step_decide(step=current_step(contract), decided_by=user, approve=True)
    contract.refresh_from_db()
    return contract


def scan():
    return pdf_upload("signed.pdf")


class CreditRequestFactory:
    """An open credit request for a customer, proposed by its primary manager (the service)."""

    def __new__(cls, *, customer, limit="1000000.00"):
        return services.credit_request_submit(
            customer=customer,
            proposed_by=customer.primary_manager,
            credit_terms="credit",
            credit_limit=Decimal(limit),
            reason="年度框架合同",
        )
