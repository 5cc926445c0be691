"""Screenshots of each role's home page and of each report, in Chinese and in English.

They land in test-artifacts/screenshots/dashboard-*.png to be looked at; the test also checks
that each page shows its chart or table and no error.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.models import ContractStatus
from dashboard.reports import REPORTS
from dashboard.summaries import refresh_summaries
from notifications.models import Notification
from tests.browser.helpers import login, screenshot
from tests.contracts.factories import submitted_contract
from tests.dashboard.factories import (
    complaint,
    contract,
    customer,
    feedback,
    grade,
    plan,
    record,
    run,
    sale,
)
from tests.factories import PASSWORD
from visits.models import CareTask, VisitStatus

# serialized_rollback: the role groups (a data migration) survive earlier transactional tests.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NAMES = [
    "华润置地",
    "中粮集团",
    "海尔智家",
    "美的电器",
    "比亚迪汽车",
    "宁德时代",
    "招商银行",
    "顺丰速运",
    "格力电器",
    "万科企业",
    "中兴通讯",
    "腾讯科技",
]


def build_company(head, manager, manager2, other_manager, east):
    """A small company with something in every list and every report, dated around today."""
    today = timezone.localdate()
    now = timezone.now()
    days = datetime.timedelta

    def ago(n):
        return today - days(n)

    q_prev, q_last = run("2026Q2"), run("2026Q3")
    people = [manager, manager2, other_manager]
    made = []
    for i, name in enumerate(NAMES):
        owner = people[i % 3]
        tier = "ABCDBC"[i % 6]
        c = customer(owner, tier=tier, name=name, created_at=now - days(400 - i * 30))
        made.append(c)
        for month in range(10):
            sale(c, ago(15 + month * 30), Decimal(80000 + i * 9000), Decimal(9000 + i * 700))
        if i % 4 == 0:
            sale(c, ago(3), Decimal(250000))  # a jump: early warning
        grade(q_prev, c, "ABBCCD"[i % 6])
        grade(q_last, c, tier, "ABBCCD"[i % 6])
        plan(c, owner, ago(40), VisitStatus.COMPLETED, done_on=ago(41 + i % 3))
        plan(c, owner, ago(5 - i % 7))
        record(c, owner, ago(20), satisfaction=3 + i % 3)
        feedback(c, owner, ago(i % 20))
        feedback(c, owner, ago(35 + i % 10))
        k = complaint(
            c,
            received=now - days(hours=30 + i * 7),
            acknowledged_after=1 + i % 5,
            status="acknowledged",
            category=["service", "delivery", "billing"][i % 3],
        )
        if i % 3 == 0:
            k.status, k.resolved_at = "resolved", k.received_at + days(hours=20)
            k.satisfaction = 4
            k.save()
        contract(
            c,
            owner,
            [
                ContractStatus.DRAFT,
                ContractStatus.ACTIVE,
                ContractStatus.APPROVED,
                ContractStatus.SIGNED,
            ][i % 4],
            Decimal(300000 + i * 150000),
        )
        CareTask.objects.create(
            customer=c,
            kind="holiday",
            due_date=today + days(2 + i % 4),
            assigned_to=owner,
            key=f"screen:{i}",
        )
    submitted_contract(owner=manager, customer=made[0], amount="6000000.00")
    for user in (manager, head):
        Notification.objects.create(recipient=user, message="客户 华润置地 的合同已提交审批")
    refresh_summaries()  # what the summaries job does every few minutes


def open_as(new_page, live_server, user, language):
    page = new_page("zh-CN" if language == "zh-hans" else "en-GB")
    login(page, live_server.url, user.username, PASSWORD)
    page.click(f"nav button[value={language}]")  # the switcher, as a user would
    return page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_screenshots_of_home_pages_and_reports(
    new_page,
    live_server,
    language,
    executive,
    finance,
    head,
    manager,
    manager2,
    other_manager,
    east,
):
    build_company(head, manager, manager2, other_manager, east)
    start = (timezone.localdate() - datetime.timedelta(days=270)).isoformat()
    users = [("manager", manager), ("head", head), ("finance", finance), ("executive", executive)]
    for role, user in users:
        page = open_as(new_page, live_server, user, language)
        page.goto(f"{live_server.url}/")
        assert page.locator("[data-testid=home-by-tier]").count() == 1
        screenshot(page, f"dashboard-home-{role}-{language}")
        if role == "head":
            for slug in REPORTS:
                page.goto(f"{live_server.url}/reports/{slug}/?start={start}")
                assert page.locator("[data-testid=report-title]").count() == 1
                assert page.locator("[data-testid=report-table], [data-testid=risk-list]").count()
                screenshot(page, f"dashboard-report-{slug}-{language}")
