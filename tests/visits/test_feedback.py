"""Information feedback (客户信息反馈) and the monthly compliance view, with hand-counted data."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.errors import BusinessRuleError
from accounts.models import Customer
from visits.models import InformationFeedback
from visits.selectors import compliance_managers, feedback_compliance_rows
from visits.services import feedback_submit

from .factories import active_customer, at


def file(customer, by, day, category="needs"):
    with time_machine.travel(at(day), tick=False):
        return feedback_submit(customer=customer, submitted_by=by, category=category, content="x")


@pytest.fixture
def november(manager, manager2):
    """manager: A×2, B×2, C×1 in November (on target) plus A×1 on 31 October (not counted).
    manager2: A×3, B×2 in November: 5 in all but no C (short of 1 on C)."""
    a, b, c = (active_customer(manager, tier=t) for t in "ABC")
    a2, b2 = (active_customer(manager2, tier=t) for t in "AB")
    for customer, day in [(a, 2), (a, 9), (b, 10), (b, 30), (c, 15)]:
        file(customer, manager, date(2026, 11, day))
    file(a, manager, date(2026, 10, 31))
    for customer, day in [(a2, 1), (a2, 2), (a2, 3), (b2, 4), (b2, 5)]:
        file(customer, manager2, date(2026, 11, day), category="risk")
    return a, b, c


def test_the_compliance_figures(november, manager, manager2, other_manager):
    rows = {
        row["manager"]: row["result"]
        for row in feedback_compliance_rows(
            managers=[manager, manager2, other_manager], year=2026, month=11
        )
    }
    assert rows[manager].total == 5 and rows[manager].compliant
    assert (rows[manager].by_tier["A"], rows[manager].by_tier["B"], rows[manager].by_tier["C"]) == (
        2,
        2,
        1,
    )
    assert rows[manager2].total == 5 and rows[manager2].shortfalls == {"C": 1}
    assert rows[other_manager].shortfalls == {"A": 2, "B": 2, "C": 1, "total": 5}
    october = feedback_compliance_rows(managers=[manager], year=2026, month=10)[0]["result"]
    assert october.total == 1 and october.shortfalls["total"] == 4


def test_feedback_counts_on_the_tier_it_was_filed_under(november, manager):
    a, _b, _c = november
    Customer.objects.filter(pk=a.pk).update(tier="D")
    result = feedback_compliance_rows(managers=[manager], year=2026, month=11)[0]["result"]
    assert result.by_tier["A"] == 2 and result.compliant


def test_the_page_highlights_who_is_short(client_for, november, head, manager, manager2):
    response = client_for(head).get(reverse("visits:feedback_compliance") + "?month=2026-11")
    page = response.content.decode()
    assert response.status_code == 200
    short = [row["manager"] for row in response.context["rows"] if not row["result"].compliant]
    assert short == [manager2]
    assert page.count('data-short="1"') == 1
    assert response.context["short_count"] == 1


def test_a_manager_sees_only_their_own_line(manager, manager2, head, other_head):
    assert list(compliance_managers(manager)) == [manager]
    assert set(compliance_managers(head)) == {manager, manager2}
    assert manager not in set(compliance_managers(other_head))


def test_feedback_needs_content_and_a_customer_of_ones_own(manager, other_manager):
    customer = active_customer(manager)
    with pytest.raises(BusinessRuleError):
        feedback_submit(customer=customer, submitted_by=manager, category="market", content=" ")
    with pytest.raises(PermissionDenied):
        feedback_submit(
            customer=customer, submitted_by=other_manager, category="market", content="x"
        )


def test_the_form_files_feedback(client_for, manager):
    customer = active_customer(manager, tier="B")
    response = client_for(manager).post(
        reverse("visits:feedback_create"),
        {"customer": customer.pk, "category": "competitors", "content": "竞争对手降价10%"},
    )
    assert response.status_code == 302
    feedback = InformationFeedback.objects.get()
    assert (feedback.customer_tier, feedback.submitted_by) == ("B", manager)


def test_the_form_offers_only_visible_customers(client_for, manager, other_manager):
    active_customer(other_manager)
    response = client_for(manager).post(
        reverse("visits:feedback_create"),
        {"customer": active_customer(other_manager).pk, "category": "risk", "content": "x"},
    )
    assert response.status_code == 200 and "customer" in response.context["form"].errors
