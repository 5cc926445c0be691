"""An appeal opens for the grade its button names: published, in its window, of that customer."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.errors import BusinessRuleError
from accounts.models import Customer
from tests.helpers import assert_in_page, zh
from tiers import services
from tiers.models import Appeal, AppealStatus, Grade, RunStatus, TierChange

from .factories import SHANGHAI, key_account, published, reviewed

JAN_5 = datetime.datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _after_2026():
    with time_machine.travel(JAN_5, tick=False):
        yield


@pytest.fixture
def account(db, east, manager):
    return key_account(department=east, primary_manager=manager)


def appeal_url(grade) -> str:
    return reverse("tiers:grade_appeal", args=[grade.pk])


def tier_tab(client, customer) -> str:
    return client.get(customer.get_absolute_url(), {"tab": "tier"}).content.decode()


def test_the_tier_tab_appeals_the_published_grade_not_the_newest(
    account, client_for, executive, head, manager
):
    q1 = published("2026Q1", executive, head, {account: "C"})
    q2 = reviewed("2026Q2", executive, head, {account: "B"})  # newer, still in review
    old = Grade.objects.get(run=q1, customer=account)
    newest = Grade.objects.get(run=q2, customer=account)
    client = client_for(manager)
    html = tier_tab(client, account)
    assert f'href="{appeal_url(old)}" data-testid="appeal-grade"' in html
    assert f'data-testid="appeal-{old.pk}"' in html
    assert f'data-testid="appeal-{newest.pk}"' not in html
    assert appeal_url(newest) not in html
    form = client.get(appeal_url(old)).content.decode()
    assert "2026Q1" in form and "2026Q2" not in form
    response = client.post(appeal_url(old), {"requested_tier": "B", "reason": "新签框架合同"})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response.url == appeal.get_absolute_url()
    assert (appeal.grade, appeal.customer, appeal.requested_tier) == (old, account, "B")
    services.appeal_decide(appeal=appeal, decided_by=head, uphold=True, comment="同意")
    # Hand-counted: the 2026Q1 grade and the customer go C → B; the 2026Q2 grade keeps its
    # tier B and now compares with B.
    old.refresh_from_db()
    newest.refresh_from_db()
    assert old.tier == "B"
    assert Customer.objects.get(pk=account.pk).tier == "B"
    assert (newest.tier, newest.previous_tier, newest.movement) == ("B", "B", "same")


def test_a_grade_still_in_review_cannot_be_appealed(account, client_for, executive, head, manager):
    published("2026Q1", executive, head)
    newest = Grade.objects.get(run=reviewed("2026Q2", executive, head), customer=account)
    response = client_for(manager).post(
        appeal_url(newest), {"requested_tier": "A", "reason": "理由"}
    )
    assert response.status_code == 200
    assert_in_page(response, zh("Only a grade of a published run can be appealed."))
    assert not Appeal.objects.exists()


def test_a_grade_of_a_closed_run_cannot_be_appealed(account, client_for, executive, head, manager):
    q1 = published("2026Q1", executive, head)
    q2 = published("2026Q2", executive, head)
    old = Grade.objects.get(run=q1, customer=account)
    current = Grade.objects.get(run=q2, customer=account)
    q1.refresh_from_db()
    assert q1.status == RunStatus.CLOSED
    client = client_for(manager)
    closed = zh(
        "Grading %(period)s is closed: its grades can no longer be appealed.", period="2026Q1"
    )
    page = client.get(appeal_url(old))
    assert_in_page(page, closed)
    assert "<form" not in page.content.decode().split('data-testid="appeal-refused"')[1]
    response = client.post(appeal_url(old), {"requested_tier": "A", "reason": "理由"})
    assert response.status_code == 200
    assert_in_page(response, closed)
    assert not Appeal.objects.exists()
    html = tier_tab(client, account)
    assert f'data-testid="appeal-{current.pk}"' in html
    assert f'data-testid="appeal-{old.pk}"' not in html


def test_the_service_refuses_a_grade_of_another_customer(account, executive, head, manager, east):
    other = key_account(department=east, primary_manager=manager)
    run = published("2026Q1", executive, head)
    grade = Grade.objects.get(run=run, customer=other)
    with pytest.raises(BusinessRuleError, match="not a grade of this customer"):
        services.appeal_file(
            grade=grade, customer=account, filed_by=manager, reason="理由", requested_tier="A"
        )
    assert not Appeal.objects.exists()


def test_the_service_refuses_after_the_window(account, executive, head, manager):
    run = published("2026Q1", executive, head)
    grade = Grade.objects.get(run=run, customer=account)
    with (
        time_machine.travel(JAN_5 + datetime.timedelta(days=15), tick=False),
        pytest.raises(BusinessRuleError, match="window closed"),
    ):
        services.appeal_file(grade=grade, filed_by=manager, reason="理由", requested_tier="A")
    assert not Appeal.objects.filter(status=AppealStatus.PENDING).exists()


def test_an_appeal_upheld_after_the_next_publication_corrects_its_own_period_only(
    account, executive, head, manager
):
    q1 = published("2026Q1", executive, head, {account: "C"})
    old = Grade.objects.get(run=q1, customer=account)
    appeal = services.appeal_file(
        grade=old, filed_by=manager, reason="新签框架合同", requested_tier="B"
    )
    q2 = published("2026Q2", executive, head, {account: "A"})  # closes 2026Q1
    current = Grade.objects.get(run=q2, customer=account)
    assert (current.previous_tier, current.movement) == ("C", "up")
    changes = TierChange.objects.filter(customer=account).count()
    services.appeal_decide(appeal=appeal, decided_by=head, uphold=True, comment="同意")
    old.refresh_from_db()
    current.refresh_from_db()
    assert old.tier == "B"
    # The current tier stays 2026Q2's; its grade now compares with the corrected B.
    assert Customer.objects.get(pk=account.pk).tier == "A"
    assert (current.tier, current.previous_tier, current.movement) == ("A", "B", "up")
    assert TierChange.objects.filter(customer=account).count() == changes
