"""Publication order, the previous tier (上期等级) and the confirmation page before publishing."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from accounts.errors import BusinessRuleError
from accounts.models import Customer
from notifications.models import Notification
from tests.helpers import assert_in_page, page_messages, zh
from tiers import services, views
from tiers.models import Grade, GradingRun, RunStatus, TierChange

from .factories import SHANGHAI, key_account, published, reviewed

# Every quarter of 2026 has ended by then; publications open their appeal windows from here.
JAN_5 = datetime.datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _after_2026():
    with time_machine.travel(JAN_5, tick=False):
        yield


@pytest.fixture
def account(db, east, manager):
    """A key account with no transactions and no assessments: it scores 0, tier D."""
    return key_account(department=east, primary_manager=manager)


REFUSAL = (
    "Grading %(period)s cannot be published: the latest published grading is %(latest)s, "
    "so only %(expected)s can be published next. A published period is corrected through "
    "overrides and appeals, not by publishing another run."
)


def refusal(period: str, latest: str, expected: str) -> str:
    return REFUSAL % {"period": period, "latest": latest, "expected": expected}


def refusal_in_page(period: str, latest: str, expected: str) -> str:
    return zh(REFUSAL, period=period, latest=latest, expected=expected)


# --- the order of publication ------------------------------------------------------------


def test_the_first_publication_may_be_any_period(account, executive, head):
    run = published("2026Q3", executive, head)
    assert run.status == RunStatus.PUBLISHED


def test_an_older_period_is_computed_and_reviewed_but_not_published(
    account, executive, head, manager
):
    q3 = published("2026Q3", executive, head, {account: "A"})
    # The older period computes and goes to review as before ...
    q1 = reviewed("2026Q1", executive, head)
    assert Grade.objects.get(run=q1, customer=account).tier == "D"
    changes = TierChange.objects.count()
    notifications = Notification.objects.count()
    # ... but its publication would overwrite the current tiers with the past: refused.
    with pytest.raises(BusinessRuleError) as error:
        services.grading_run_publish(run=q1, published_by=executive)
    assert error.value.message == refusal("2026Q1", "2026Q3", "2026Q4")
    q1.refresh_from_db()
    q3.refresh_from_db()
    account.refresh_from_db()
    assert (q1.status, q1.published_at, q1.published_by, q1.appeal_deadline) == (
        RunStatus.UNDER_REVIEW,
        None,
        None,
        None,
    )
    assert q3.status == RunStatus.PUBLISHED
    assert account.tier == "A"
    assert TierChange.objects.count() == changes
    assert Notification.objects.count() == notifications


def test_skipping_a_period_is_refused_and_the_next_one_is_accepted(account, executive, head):
    published("2026Q1", executive, head)
    q3 = reviewed("2026Q3", executive, head)
    with pytest.raises(BusinessRuleError) as error:
        services.grading_run_publish(run=q3, published_by=executive)
    assert error.value.message == refusal("2026Q3", "2026Q1", "2026Q2")
    published("2026Q2", executive, head)
    assert services.grading_run_publish(run=q3, published_by=executive).status == "published"
    assert list(GradingRun.objects.order_by("period").values_list("period", "status")) == [
        ("2026Q1", RunStatus.CLOSED),
        ("2026Q2", RunStatus.CLOSED),
        ("2026Q3", RunStatus.PUBLISHED),
    ]


def test_the_year_boundary_follows_the_fourth_quarter(db, executive, head):
    with time_machine.travel(datetime.datetime(2027, 4, 5, 9, tzinfo=SHANGHAI), tick=False):
        published("2026Q4", executive, head)
        q1 = reviewed("2027Q1", executive, head)
        assert services.grading_run_publication_problem(q1) is None


def test_an_older_period_from_the_publish_page_is_refused_with_the_message(
    account, client_for, executive, head
):
    published("2026Q3", executive, head, {account: "A"})
    q1 = reviewed("2026Q1", executive, head)
    url = reverse("tiers:run_publish", args=[q1.pk])
    client = client_for(executive)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="publish-refused"' in html
    assert_in_page(page, refusal_in_page("2026Q1", "2026Q3", "2026Q4"))
    assert 'data-testid="confirm-publish" disabled' in html
    response = client.post(url, follow=True)
    assert page_messages(response) == [refusal_in_page("2026Q1", "2026Q3", "2026Q4")]
    q1.refresh_from_db()
    account.refresh_from_db()
    assert q1.status == RunStatus.UNDER_REVIEW
    assert account.tier == "A"


# --- the previous tier (上期等级) -----------------------------------------------------------


def test_an_older_period_takes_no_previous_tier_from_the_current_one(
    account, executive, head, client_for
):
    published("2026Q2", executive, head, {account: "B"})
    account.refresh_from_db()
    assert account.tier == "B"
    q1 = reviewed("2026Q1", executive, head)
    grade = Grade.objects.get(run=q1, customer=account)
    # Nothing was published before 2026Q1: the customer's tier now (B) is not its previous.
    assert (grade.previous_tier, grade.movement) == ("", "new")


def test_the_previous_tier_is_the_preceding_published_grade_not_the_tier_at_computation(
    account, executive, head, client_for
):
    published("2026Q1", executive, head, {account: "C"})
    q2 = reviewed("2026Q2", executive, head, {account: "B"})
    # 2026Q3 is computed while 2026Q2 is still in review: its preceding published period is
    # 2026Q1 (C) ...
    q3 = reviewed("2026Q3", executive, head, {account: "A"})
    grade = Grade.objects.get(run=q3, customer=account)
    assert (grade.previous_tier, grade.movement) == ("C", "up")
    # ... until 2026Q2 is published (B): the previous tier follows it.
    services.grading_run_publish(run=q2, published_by=executive)
    grade.refresh_from_db()
    assert (grade.previous_tier, grade.movement) == ("B", "up")
    page = client_for(executive).get(q3.get_absolute_url())
    html = page.content.decode()
    row = html[html.index(f'data-testid="grade-{account.pk}"') :].split("</tr>")[0]
    assert row.index("tier-B") < row.index("tier-A")  # previous B, then tier A
    assert 'data-testid="preceding-period">2026Q2<' in html


def test_the_previous_tier_follows_an_upheld_appeal_of_the_preceding_grade(
    account, executive, head, manager
):
    q1 = published("2026Q1", executive, head, {account: "C"})
    q2 = reviewed("2026Q2", executive, head, {account: "C"})
    grade = Grade.objects.get(run=q2, customer=account)
    assert (grade.previous_tier, grade.movement) == ("C", "same")
    appeal = services.appeal_file(
        grade=Grade.objects.get(run=q1, customer=account),
        filed_by=manager,
        reason="新签框架合同",
        requested_tier="B",
    )
    services.appeal_decide(appeal=appeal, decided_by=head, uphold=True, comment="同意")
    grade.refresh_from_db()
    assert (grade.previous_tier, grade.movement) == ("B", "down")


def test_the_previous_tier_differs_from_a_current_tier_set_outside_grading(
    account, executive, head
):
    published("2026Q1", executive, head, {account: "C"})
    # Say the tier was corrected by hand since (an old admin edit, an import): the review
    # still compares with the published 2026Q1 grade.
    Customer.objects.filter(pk=account.pk).update(tier="A")
    q2 = reviewed("2026Q2", executive, head)
    grade = Grade.objects.get(run=q2, customer=account)
    assert (grade.previous_tier, grade.tier, grade.movement) == ("C", "D", "down")


# --- the confirmation page ---------------------------------------------------------------


@pytest.fixture
def four(db, east, manager):
    """Hand-counted: tiers now A, B, none (graded for the first time), C (not graded: it was
    created after the period's end); this run grades the first three C, B, D."""
    upgraded = key_account(department=east, primary_manager=manager, tier="A", name="甲公司")
    same = key_account(department=east, primary_manager=manager, tier="B", name="乙公司")
    new = key_account(department=east, primary_manager=manager, name="丙公司")
    later = key_account(
        department=east,
        primary_manager=manager,
        tier="C",
        name="丁公司",
        created_at=datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI),
    )
    return upgraded, same, new, later


def _distribution(html: str) -> dict[str, tuple[int, int]]:
    rows = {}
    for tier in ["A", "B", "C", "D", "none"]:
        row = html[html.index(f'data-testid="distribution-{tier}"') :].split("</tr>")[0]
        now = row.split('data-testid="now">')[1].split("<")[0]
        after = row.split('data-testid="after">')[1].split("<")[0]
        rows[tier] = (int(now), int(after))
    return rows


def test_the_confirmation_page_shows_the_distribution_before_and_after(
    four, client_for, executive, head
):
    upgraded, same, new, later = four
    run = reviewed("2026Q3", executive, head, {upgraded: "C", same: "B"})
    assert run.grade_count == 3
    page = client_for(executive).get(reverse("tiers:run_publish", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    # Now: A 甲, B 乙, C 丁, and 丙 not graded. After: 甲 → C, 乙 stays B, 丙 → D, 丁 keeps C.
    assert _distribution(html) == {
        "A": (1, 0),
        "B": (1, 1),
        "C": (1, 2),
        "D": (0, 1),
        "none": (1, 0),
    }
    assert [row["change"] for row in page.context["distribution"]] == [-1, 0, 1, 1, -1]
    # The customers whose tier changes: 甲 and 丙, by name.
    assert [g.customer for g in page.context["page_obj"]] == [new, upgraded]
    assert page.context["paginator"].count == 2
    assert f'data-testid="change-{same.pk}"' not in html
    # Showing the page publishes nothing.
    run.refresh_from_db()
    assert run.status == RunStatus.UNDER_REVIEW
    assert Customer.objects.get(pk=upgraded.pk).tier == "A"


def test_the_confirmation_lists_the_changes_page_by_page(
    four, client_for, executive, head, monkeypatch
):
    upgraded, same, new, later = four
    monkeypatch.setattr(views, "PUBLISH_CHANGES_PER_PAGE", 1)
    run = reviewed("2026Q3", executive, head, {upgraded: "C", same: "B"})
    url = reverse("tiers:run_publish", args=[run.pk])
    second = client_for(executive).get(url, {"page": 2})
    assert [g.customer for g in second.context["page_obj"]] == [upgraded]
    with translation.override("zh-hans"):
        count = ngettext(
            "%(counter)s customer changes tier", "%(counter)s customers change tier", 2
        ) % {"counter": 2}
    assert count in second.content.decode()


def test_publishing_goes_through_the_confirmation(four, client_for, executive, head):
    upgraded, same, new, later = four
    run = reviewed("2026Q3", executive, head, {upgraded: "C", same: "B"})
    client = client_for(executive)
    detail = client.get(run.get_absolute_url()).content.decode()
    url = reverse("tiers:run_publish", args=[run.pk])
    # The run page's button is a link to the confirmation, not a form that publishes.
    assert f'href="{url}" data-testid="publish"' in detail
    response = client.post(url)
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    tiers = dict(Customer.objects.values_list("name", "tier"))
    assert tiers == {"甲公司": "C", "乙公司": "B", "丙公司": "D", "丁公司": "C"}


@pytest.mark.parametrize("role", ["head", "manager", "finance"])
def test_the_confirmation_is_refused_to_who_may_not_publish(
    request, four, client_for, executive, head, role
):
    run = reviewed("2026Q3", executive, head)
    user = request.getfixturevalue(role)
    assert client_for(user).get(reverse("tiers:run_publish", args=[run.pk])).status_code == 403


def test_the_confirmation_of_a_run_not_in_review_sends_back_with_a_message(
    four, client_for, executive
):
    run = services.grading_run_compute(period="2026Q3", computed_by=executive)
    response = client_for(executive).get(reverse("tiers:run_publish", args=[run.pk]), follow=True)
    assert response.redirect_chain[-1][0] == run.get_absolute_url()
    assert page_messages(response) == [zh("Only a run under review can be published.")]


def test_the_confirmation_queries_do_not_grow_with_the_changes(
    four, client_for, executive, head, east, manager, django_assert_max_num_queries
):
    run = reviewed("2026Q3", executive, head)
    client = client_for(executive)
    url = reverse("tiers:run_publish", args=[run.pk])
    client.get(url)  # warm the session and the user's roles
    with django_assert_max_num_queries(10):
        client.get(url)
    for index in range(30):
        key_account(department=east, primary_manager=manager, tier="A", name=f"客户{index:02d}")
    run = reviewed("2026Q4", executive, head)
    url = reverse("tiers:run_publish", args=[run.pk])
    client.get(url)
    with django_assert_max_num_queries(10):
        page = client.get(url)
    assert page.context["paginator"].count == 34


def test_computing_an_older_period_warns_that_it_cannot_be_published(
    account, client_for, executive, head
):
    published("2026Q3", executive, head)
    client = client_for(executive)
    response = client.post(reverse("tiers:run_compute"), {"period": "2026Q1"}, follow=True)
    expected = refusal_in_page("2026Q1", "2026Q3", "2026Q4")
    # Said once, on the run's page the computation leads to, not again as a message.
    assert page_messages(response) == [zh("Grading %(period)s computed.", period="2026Q1")]
    assert 'data-testid="publication-problem"' in response.content.decode()
    assert_in_page(response, expected)
    run = GradingRun.objects.get(period="2026Q1")
    assert run.status == RunStatus.COMPUTED
