"""A notice asking someone to act leaves the unread count once the work is done, by anyone.

Each test has the work requested through its service, done by someone other than the notice's
recipient, and reads the recipient's bell and unread list as they see them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts
from accounts.permissions import Role
from complaints import services as complaints
from complaints.models import Status
from contracts import services as contracts
from notifications.models import Notification
from notifications.services import notifications_resolve, notify
from tests.contracts.factories import admitted_customer, approve_all, scan, submitted_contract
from tests.dashboard.factories import grade, run
from tests.factories import CustomerFactory, UserFactory, complete_checklist
from tests.receivables.factories import contract_in_force, pay
from tiers import services as tiers
from tiers.models import GradingRun, RunStatus

pytestmark = pytest.mark.django_db


def bell(client) -> int:
    """The count on the bell as the user sees it (0 when there is no badge)."""
    page = client.get("/notifications/").content.decode()
    marker = 'data-testid="unread-count">'
    return int(page.split(marker, 1)[1].split("<", 1)[0]) if marker in page else 0


def unread_listed(client) -> int:
    page = client.get("/notifications/?unread=1").content.decode()
    return page.count('list-group-item-info"')


def asks(user, contains: str) -> Notification:
    return Notification.objects.get(recipient=user, message__contains=contains)


def test_an_admission_decided_by_an_admin_leaves_the_heads_unread_count(
    client_for, manager, head, admin_user
):
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    complete_checklist(customer)
    admission = accounts.admission_submit(customer=customer, submitted_by=manager)
    client = client_for(head)
    assert bell(client) == 1 and unread_listed(client) == 1
    accounts.admission_decide(
        admission=admission, decided_by=admin_user, approve=False, comment="Licence expired"
    )
    assert bell(client) == 0 and unread_listed(client) == 0
    notice = Notification.objects.get(recipient=head)
    assert notice.read_at is None and notice.resolved_at is not None  # done, not read
    page = client.get("/notifications/").content.decode()
    assert 'data-testid="notification-done"' in page and customer.name in page


def test_a_step_decided_by_one_head_leaves_the_other_heads_unread_count(
    client_for, manager, head, east
):
    deputy = UserFactory(username="head_east2", department=east, roles=[Role.DEPARTMENT_HEAD])
    contract = submitted_contract(owner=manager, customer=admitted_customer(manager=manager))
    client = client_for(deputy)
    assert bell(client) == 1
    approve_all(contract, head)
    assert bell(client) == 0
    assert asks(deputy, contract.number).resolved_at is not None


def test_a_contract_signed_by_the_head_leaves_the_owners_request_to_sign(client_for, manager, head):
    customer = admitted_customer(manager=manager)
    contract = submitted_contract(owner=manager, customer=customer, amount="300000.00")
    approve_all(contract, head)  # one step for a B customer at this amount
    assert contract.status == "approved"
    request = Notification.objects.filter(recipient=manager, resolved_at__isnull=True)
    assert request.filter(subject=f"contracts.contract:{contract.pk}").count() == 1
    client = client_for(manager)
    before = bell(client)
    contracts.contract_mark_signed(contract=contract, signed_by=head, signed_scan=scan())
    assert bell(client) == before - 1


def test_a_collection_confirmed_by_one_finance_user_leaves_the_others_count(
    client_for, manager, head, finance
):
    colleague = UserFactory(username="finance2", roles=[Role.FINANCE])
    today = timezone.localdate()
    contract = contract_in_force(
        manager=manager, head=head, plan=[(today + datetime.timedelta(days=30), "300000.00")]
    )
    collection = pay(contract, manager, "1000.00", today)
    client = client_for(colleague)
    assert bell(client) == 1
    contracts.collection_confirm(collection=collection, confirmed_by=finance)
    assert bell(client) == 0


def _graded_run(manager, status, period="2026Q3"):
    customer = admitted_customer(manager=manager)
    graded = run(period, status=status)
    return graded, grade(graded, customer, "B")


def test_a_published_run_leaves_the_heads_review_request(client_for, manager, head, executive):
    computed, _grade = _graded_run(manager, RunStatus.COMPUTED)
    tiers.grading_run_start_review(run=computed, started_by=executive)
    client = client_for(head)
    assert bell(client) == 1
    tiers.grading_run_publish(run=computed, published_by=executive)
    assert bell(client) == 0
    assert asks(head, "2026Q3").subject == f"tiers.gradingrun:{computed.pk}"


def test_an_appeal_decided_by_the_executive_leaves_the_heads_unread_count(
    client_for, manager, head, executive
):
    published, appealed = _graded_run(manager, RunStatus.PUBLISHED)
    GradingRun.objects.filter(pk=published.pk).update(
        appeal_deadline=timezone.now() + datetime.timedelta(days=14)
    )
    appealed.refresh_from_db()
    appeal = tiers.appeal_file(
        grade=appealed, filed_by=manager, reason="New contract", requested_tier="A"
    )
    client = client_for(head)
    assert bell(client) == 1
    tiers.appeal_decide(appeal=appeal, decided_by=executive, uphold=False, comment="No change")
    assert bell(client) == 0


def _complaint(manager):
    customer = admitted_customer(manager=manager)
    return complaints.complaint_create(
        created_by=manager,
        customer=customer,
        channel="phone",
        category="delivery",
        severity="high",
        description="Late delivery",
        received_at=timezone.now(),
    )


def test_an_escalation_handled_by_the_executive_leaves_the_heads_unread_count(
    client_for, manager, head, executive
):
    complaint = complaints.complaint_transition(
        complaint=_complaint(manager), to_status=Status.ESCALATED, by=manager, comment="Urgent"
    )
    client = client_for(head)
    assert bell(client) == 1
    complaints.complaint_transition(complaint=complaint, to_status=Status.IN_PROGRESS, by=executive)
    assert bell(client) == 0


def test_an_escalation_by_the_deadline_job_is_resolved_the_same_way(
    client_for, manager, head, executive
):
    complaint = _complaint(manager)
    later = timezone.now() + datetime.timedelta(days=30)
    complaints.complaint_check_deadlines(now=later)
    complaint.refresh_from_db()
    assert complaint.status == Status.ESCALATED
    client = client_for(head)
    before = bell(client)  # the breach warnings too, which ask for nothing
    escalated = Notification.objects.get(
        recipient=head, subject=f"complaints.complaint:{complaint.pk}"
    )
    complaints.complaint_transition(complaint=complaint, to_status=Status.RESOLVED, by=executive)
    assert bell(client) == before - 1
    escalated.refresh_from_db()
    assert escalated.resolved_at is not None


def test_work_done_before_a_notice_is_read_keeps_other_notices_unread(client_for, manager):
    notify(recipient=manager, message="Information", email=False)
    notify(recipient=manager, message="Decide", email=False, subject="tests.work:1")
    notify(recipient=manager, message="Decide too", email=False, subject="tests.work:2")
    assert notifications_resolve(subject="tests.work:1") == 1
    assert notifications_resolve(subject="tests.work:1") == 0  # once
    assert bell(client_for(manager)) == 2


def test_the_bell_costs_the_same_queries_with_work_done(client_for, manager):
    client = client_for(manager)
    notify(recipient=manager, message="Decide", email=False, subject="tests.work:1")
    with CaptureQueriesContext(connection) as before:
        client.get("/notifications/")
    for n in range(2, 12):
        notify(recipient=manager, message=f"Decide {n}", email=False, subject=f"tests.work:{n}")
        notifications_resolve(subject=f"tests.work:{n}")
    with CaptureQueriesContext(connection) as after:
        response = client.get("/notifications/")
    assert len(after) == len(before)
    assert response.content.decode().count('data-testid="notification-done"') == 10


def test_the_data_migration_marks_finished_reviews_and_appeals_done(manager, head, executive):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("notifications.migrations.0004_resolve_finished_work")
    published, appealed = _graded_run(manager, RunStatus.PUBLISHED)
    under_review, _grade = _graded_run(manager, RunStatus.UNDER_REVIEW, "2026Q4")
    old = [
        Notification.objects.create(recipient=head, message="r", dedup_key=f"tiers-review:{r.pk}")
        for r in (published, under_review)
    ]
    GradingRun.objects.filter(pk=published.pk).update(
        appeal_deadline=timezone.now() + datetime.timedelta(days=14)
    )
    appealed.refresh_from_db()
    appeal = tiers.appeal_file(grade=appealed, filed_by=manager, reason="x", requested_tier="A")
    tiers.appeal_decide(appeal=appeal, decided_by=executive, uphold=False, comment="No")
    Notification.objects.update(subject="", resolved_at=None)  # as sent before the migration
    migration.forwards(apps, None)
    done = {
        n.pk: n.resolved_at is not None
        for n in Notification.objects.filter(pk__in=[n.pk for n in old])
    }
    assert done == {old[0].pk: True, old[1].pk: False}
    to_head = Notification.objects.get(recipient=head, link=appeal.get_absolute_url())
    to_filer = Notification.objects.get(recipient=manager, link=appeal.get_absolute_url())
    assert to_head.resolved_at is not None and to_head.subject == f"tiers.appeal:{appeal.pk}"
    assert to_filer.resolved_at is None and to_filer.subject == ""


def test_a_credit_request_leaves_each_deciders_unread_count_at_its_own_step(
    client_for, manager, finance, executive
):
    other_finance = UserFactory(username="finance2", roles=[Role.FINANCE])
    customer = admitted_customer(manager=manager)
    credit_request = contracts.credit_request_submit(
        customer=customer, proposed_by=manager, credit_terms="credit",
        credit_limit=Decimal("9000000"), reason="年度框架合同",
    )  # fmt: skip
    finance_client, executive_client = client_for(finance), client_for(executive)
    assert bell(finance_client) == 1 and bell(executive_client) == 0
    contracts.credit_request_decide(
        credit_request=credit_request, decided_by=other_finance, approve=True, comment="同意"
    )
    # Finance's step is done by a colleague; the executive is now asked.
    assert bell(finance_client) == 0 and unread_listed(finance_client) == 0
    assert bell(executive_client) == 1
    contracts.credit_request_decide(
        credit_request=credit_request, decided_by=executive, approve=True, comment="同意"
    )
    assert bell(executive_client) == 0
