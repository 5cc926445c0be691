"""Care: holiday and birthday tasks a week ahead (idempotent), and the yearly care budget."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import DecisionRole
from notifications.models import Notification
from tests.factories import ContactFactory
from tests.helpers import page_messages
from visits.models import CareExpense, CareKind, CareStatus, CareTask, Holiday
from visits.services import care_budget, care_expense_add, care_task_done, care_tasks_generate

from .factories import active_customer, at


def test_the_holidays_of_2026_and_2027_are_loaded(db):
    assert Holiday.objects.filter(date__year=2026).count() == 6
    assert Holiday.objects.get(name="春节", date__year=2027).date == date(2027, 2, 6)


def test_holidays_become_tasks_for_a_and_b_customers_a_week_ahead(manager, manager2):
    a = active_customer(manager, tier="A")
    b = active_customer(manager2, tier="B")
    active_customer(manager, tier="C")
    active_customer(manager, tier="")
    labour_day = Holiday.objects.get(name="劳动节", date=date(2026, 5, 1))

    assert care_tasks_generate(today=date(2026, 4, 23))["created"] == 0  # eight days ahead
    assert care_tasks_generate(today=date(2026, 4, 24))["created"] == 2
    assert care_tasks_generate(today=date(2026, 4, 24))["created"] == 0
    assert care_tasks_generate(today=date(2026, 4, 25))["created"] == 0

    tasks = CareTask.objects.filter(holiday=labour_day, kind=CareKind.HOLIDAY)
    assert {(t.customer, t.assigned_to, t.due_date) for t in tasks} == {
        (a, manager, labour_day.date),
        (b, manager2, labour_day.date),
    }
    notices = Notification.objects.filter(dedup_key__startswith="care-tasks:")
    assert sorted(n.recipient.username for n in notices) == sorted(
        [manager.username, manager2.username]
    )


def test_an_inactive_holiday_is_skipped(manager):
    active_customer(manager, tier="A")
    Holiday.objects.filter(name="劳动节").update(is_active=False)
    assert care_tasks_generate(today=date(2026, 4, 24))["created"] == 0


def test_birthdays_of_a_tier_decision_makers_become_tasks(manager):
    a = active_customer(manager, tier="A")
    b = active_customer(manager, tier="B")
    boss = ContactFactory(
        customer=a, decision_role=DecisionRole.DECISION_MAKER, birthday=date(1975, 1, 3)
    )
    ContactFactory(customer=a, decision_role=DecisionRole.INFLUENCER, birthday=date(1980, 1, 3))
    ContactFactory(customer=b, decision_role=DecisionRole.DECISION_MAKER, birthday=date(1970, 1, 2))
    ContactFactory(customer=a, decision_role=DecisionRole.DECISION_MAKER, birthday=date(1970, 2, 3))

    today = date(2026, 12, 28)  # across the year end: 3 January 2027 is six days ahead
    # One birthday, plus New Year's Day (1 January) for the A and the B customer.
    assert care_tasks_generate(today=today)["created"] == 3
    assert care_tasks_generate(today=today)["created"] == 0
    task = CareTask.objects.get(kind=CareKind.BIRTHDAY)
    assert (task.contact, task.due_date, task.assigned_to) == (boss, date(2027, 1, 3), manager)
    assert task.key == f"birthday:{boss.pk}:2027"


def test_a_care_task_is_done_once(manager):
    active_customer(manager, tier="A")
    care_tasks_generate(today=date(2026, 4, 24))
    task = CareTask.objects.get()
    care_task_done(task=task, done_by=manager, note="已送花篮")
    assert task.status == CareStatus.DONE and task.done_by == manager


def test_the_care_budget_warning_with_hand_counted_spending(manager, head):
    """Tier A budget ¥50,000 (TierPolicy default): 20,000 + 25,000 = 45,000 is within it,
    a further 6,000 makes 51,000, over by 1,000; last year's 30,000 does not count."""
    customer = active_customer(manager, tier="A")
    with time_machine.travel(at(date(2026, 6, 1)), tick=False):
        care_expense_add(
            customer=customer, recorded_by=manager, date=date(2025, 12, 20), kind="gift",
            description="去年年礼", cost=Decimal("30000"),
        )  # fmt: skip
        _e, status = care_expense_add(
            customer=customer, recorded_by=manager, date=date(2026, 2, 10), kind="gift",
            description="春节礼品", cost=Decimal("20000"),
        )  # fmt: skip
        assert (status.spent, status.over) == (Decimal("20000"), False)
        _e, status = care_expense_add(
            customer=customer, recorded_by=manager, date=date(2026, 5, 20), kind="event",
            description="客户答谢会", cost=Decimal("25000"),
        )  # fmt: skip
        assert (status.spent, status.remaining, status.over) == (
            Decimal("45000"), Decimal("5000"), False,
        )  # fmt: skip
        assert not Notification.objects.filter(dedup_key__startswith="care-budget:").exists()
        _e, status = care_expense_add(
            customer=customer, recorded_by=manager, date=date(2026, 6, 1), kind="gift",
            description="端午礼盒", cost=Decimal("6000"),
        )  # fmt: skip
    assert (status.spent, status.remaining, status.over) == (
        Decimal("51000"), Decimal("-1000"), True,
    )  # fmt: skip
    assert care_budget(customer, year=2025).spent == Decimal("30000")
    warned = Notification.objects.filter(dedup_key__startswith="care-budget:")
    assert {n.recipient for n in warned} == {manager, head}


def test_a_d_tier_customer_has_no_care_budget(manager):
    customer = active_customer(manager, tier="D")
    _e, status = care_expense_add(
        customer=customer, recorded_by=manager, date=date(2026, 3, 1), kind="gift",
        description="小礼品", cost=Decimal("100"),
    )  # fmt: skip
    assert status.over and status.budget == Decimal("0")


@pytest.mark.parametrize(("cost", "warned"), [("50000", False), ("50000.01", True)])
def test_the_page_warns_when_the_budget_is_passed(client_for, manager, cost, warned):
    customer = active_customer(manager, tier="A")
    with time_machine.travel(at(date(2026, 6, 1)), tick=False):
        response = client_for(manager).post(
            reverse("visits:care_expense_add", args=[customer.pk]),
            {"date": "2026-06-01", "kind": "gift", "description": "礼品", "cost": cost},
            follow=True,
        )
    assert CareExpense.objects.count() == 1
    has_warning = any("50,000.00" in message for message in page_messages(response))
    assert has_warning is warned
    assert ('data-testid="over-budget"' in response.content.decode()) is warned
