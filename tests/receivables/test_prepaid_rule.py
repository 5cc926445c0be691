"""先款后货: every delivery to a prepaid customer needs payments confirmed by finance that
cover it, whether or not it names an instalment — on the form and in the Excel import."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts import services as accounts_services
from accounts.errors import BusinessRuleError
from accounts.models import CreditTerms, Transaction
from contracts.models import PrepaymentUse
from tests.contracts.factories import admitted_customer
from tests.excel.conftest import TRANSACTION_HEADERS, upload, xlsx_bytes

from .factories import at, contract_in_force, pay

pytestmark = pytest.mark.django_db
D = datetime.date
CODE = "91350100M000100Y43"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 2, 10), tick=False):
        yield


@pytest.fixture
def prepaid(manager):
    return admitted_customer(manager=manager, credit_terms=CreditTerms.PREPAID, credit_code=CODE)


def post_delivery(client, customer, amount, reference=""):
    return client.post(
        reverse("accounts:transaction_add", args=[customer.pk]),
        {"date": "2026-02-10", "amount": amount, "profit": "0", "reference": reference},
    )


def test_an_unpaid_delivery_naming_no_instalment_is_refused_on_the_form(
    client_for, manager, prepaid
):
    response = post_delivery(client_for(manager), prepaid, "800000")
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("先款后货" in error and "¥800,000.00" in error for error in errors)
    assert not Transaction.objects.exists()
    assert not PrepaymentUse.objects.exists()


def test_a_recorded_but_unconfirmed_payment_does_not_cover_a_delivery(
    client_for, manager, head, prepaid
):
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=prepaid,
        amount="800000.00",
        plan=[(D(2026, 3, 1), 800000)],
    )
    pay(contract, manager, 800000, D(2026, 2, 9))  # finance has not confirmed it
    response = post_delivery(client_for(manager), prepaid, "800000")
    assert response.status_code == 200
    assert not Transaction.objects.exists()


def test_a_confirmed_payment_covers_deliveries_up_to_its_amount(
    client_for, manager, head, finance, prepaid
):
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=prepaid,
        amount="800000.00",
        plan=[(D(2026, 3, 1), 800000)],
    )
    pay(contract, manager, 800000, D(2026, 2, 9), confirm_by=finance)
    client = client_for(manager)
    assert post_delivery(client, prepaid, "500000").status_code == 302
    record = Transaction.objects.get()
    assert record.paid_date == D(2026, 2, 10)  # paid before the goods
    assert record.prepayment_use.amount == Decimal("500000.00")
    # ¥300,000 of the payment is left; ¥300,000.01 is not covered.
    assert post_delivery(client, prepaid, "300000.01").status_code == 200
    assert post_delivery(client, prepaid, "300000").status_code == 302
    assert Transaction.objects.count() == 2
    assert post_delivery(client, prepaid, "1").status_code == 200


def test_a_delivery_naming_an_instalment_needs_it_paid_and_uses_the_payment(
    manager, head, finance, prepaid
):
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=prepaid,
        plan=[(D(2026, 2, 5), 100000), (D(2026, 3, 1), 200000)],
    )
    with pytest.raises(BusinessRuleError, match="先款后货"):
        accounts_services.transaction_add(
            customer=prepaid,
            added_by=manager,
            date=D(2026, 2, 10),
            amount=Decimal("100000"),
            reference=f"{contract.number}/1",
        )
    pay(contract, manager, 100000, D(2026, 2, 8), confirm_by=finance)
    accounts_services.transaction_add(
        customer=prepaid,
        added_by=manager,
        date=D(2026, 2, 10),
        amount=Decimal("100000"),
        reference=f"{contract.number}/1",
    )
    # The instalment's money went to its delivery: nothing is left for another one.
    with pytest.raises(BusinessRuleError, match="先款后货"):
        accounts_services.transaction_add(
            customer=prepaid, added_by=manager, date=D(2026, 2, 10), amount=Decimal("1")
        )
    assert Transaction.objects.count() == 1


def test_money_used_by_a_delivery_without_instalment_cannot_deliver_the_instalment_again(
    manager, head, finance, prepaid
):
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=prepaid,
        amount="100000.00",
        plan=[(D(2026, 2, 5), 100000)],
    )
    pay(contract, manager, 100000, D(2026, 2, 8), confirm_by=finance)
    accounts_services.transaction_add(
        customer=prepaid, added_by=manager, date=D(2026, 2, 10), amount=Decimal("100000")
    )
    with pytest.raises(BusinessRuleError, match="先款后货"):
        accounts_services.transaction_add(
            customer=prepaid,
            added_by=manager,
            date=D(2026, 2, 10),
            amount=Decimal("100000"),
            reference=f"{contract.number}/1",
        )


def test_a_credit_customer_is_not_asked_for_prepayment(manager):
    customer = admitted_customer(
        manager=manager, credit_terms=CreditTerms.CREDIT, credit_limit=Decimal("1000000")
    )
    accounts_services.transaction_add(
        customer=customer, added_by=manager, date=D(2026, 2, 10), amount=Decimal("800000")
    )
    assert not PrepaymentUse.objects.exists()


# --- The Excel transaction import applies the same rule -------------------------------------


def import_rows(client, rows):
    response = client.post(
        reverse("accounts:import_start"),
        {"kind": "transactions", "file": upload(xlsx_bytes(("ERP", [TRANSACTION_HEADERS, *rows])))},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    token = re.search(r"/import/([^/]+)/$", response["Location"]).group(1)
    preview = client.get(reverse("accounts:import_preview", args=[token]))
    commit = client.post(reverse("accounts:import_commit", args=[token]), {"skip_invalid": "1"})
    return preview, commit


def test_the_import_refuses_an_uncovered_prepaid_delivery(
    client_for, manager, prepaid, tmp_path, settings
):
    settings.IMPORT_STASH_DIR = tmp_path / "imports"
    settings.LANGUAGE_CODE = "en"
    preview, _commit = import_rows(
        client_for(manager), [[CODE, datetime.date(2026, 2, 10), 800000, 0, "SO-1"]]
    )
    assert "先款后货" in preview.content.decode()
    assert not Transaction.objects.exists()


def test_the_import_lets_a_confirmed_payment_cover_rows_up_to_its_amount(
    client_for, manager, head, finance, prepaid, tmp_path, settings
):
    settings.IMPORT_STASH_DIR = tmp_path / "imports"
    settings.LANGUAGE_CODE = "en"
    contract = contract_in_force(
        manager=manager,
        head=head,
        customer=prepaid,
        amount="800000.00",
        plan=[(D(2026, 3, 1), 800000)],
    )
    pay(contract, manager, 800000, D(2026, 2, 9), confirm_by=finance)
    rows = [
        [CODE, datetime.date(2026, 2, 10), 500000, 0, "SO-1"],
        [CODE, datetime.date(2026, 2, 10), 400000, 0, "SO-2"],  # only ¥300,000 left
        [CODE, datetime.date(2026, 2, 10), 300000, 0, "SO-3"],
    ]
    preview, commit = import_rows(client_for(manager), rows)
    assert "先款后货" in preview.content.decode()
    assert commit.status_code == 302
    assert sorted(prepaid.transactions.values_list("reference", flat=True)) == ["SO-1", "SO-3"]
    assert sorted(PrepaymentUse.objects.values_list("amount", flat=True)) == [
        Decimal("300000.00"),
        Decimal("500000.00"),
    ]
    # The payment is used up: the form refuses the next delivery.
    with pytest.raises(BusinessRuleError, match="先款后货"):
        accounts_services.transaction_add(
            customer=prepaid, added_by=manager, date=D(2026, 2, 10), amount=Decimal("1")
        )
