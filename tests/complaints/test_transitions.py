"""Every allowed and forbidden transition, for every role, through the page's action."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from accounts.errors import BusinessRuleError
from complaints import services
from complaints.models import Complaint, ComplaintEvent, Status, TaskForceMember

S = Status
# Written out by hand (not read from complaints.permissions) so that the test checks the table.
HANDLER_MOVES = {
    (S.NEW, S.ACKNOWLEDGED), (S.NEW, S.ESCALATED), (S.ACKNOWLEDGED, S.IN_PROGRESS),
    (S.ACKNOWLEDGED, S.ESCALATED), (S.IN_PROGRESS, S.ESCALATED), (S.IN_PROGRESS, S.RESOLVED),
    (S.RESOLVED, S.CONFIRMED), (S.RESOLVED, S.REOPENED), (S.REOPENED, S.IN_PROGRESS),
    (S.REOPENED, S.ESCALATED), (S.CONFIRMED, S.CLOSED),
}  # fmt: skip
SUPERVISOR_MOVES = {
    (S.ESCALATED, S.IN_PROGRESS), (S.ESCALATED, S.RESOLVED), (S.CONFIRMED, S.CLOSED),
}  # fmt: skip
ALLOWED = {
    "manager": HANDLER_MOVES,  # primary manager and assignee
    "manager2": HANDLER_MOVES,  # assistant manager
    "head": HANDLER_MOVES | SUPERVISOR_MOVES,
    "executive": SUPERVISOR_MOVES,
    "admin_user": HANDLER_MOVES | SUPERVISOR_MOVES,
    "finance": set(),
    "task_force": set(),
}
OUT_OF_SCOPE = ["other_head", "other_manager", "outsider"]
PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


def _post(client, complaint, to_status):
    data = {"to_status": to_status, "comment": "处理说明"}
    if to_status in (S.CONFIRMED, S.REOPENED):
        data["satisfaction"] = 4 if to_status == S.CONFIRMED else 2
    return client.post(reverse("complaints:transition", args=[complaint.pk]), data)


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_each_transition_for_each_role(
    request, role, from_status, to_status, make_complaint, client_for, head
):
    complaint = make_complaint(status=from_status)
    if role == "task_force":
        user = request.getfixturevalue("other_manager")
        TaskForceMember.objects.create(complaint=complaint, user=user, added_by=head)
    else:
        user = request.getfixturevalue(role)
    response = _post(client_for(user), complaint, to_status)
    complaint.refresh_from_db()
    if (from_status, to_status) in ALLOWED[role]:
        assert response.status_code == 302
        assert complaint.status == to_status
        event = complaint.events.get(to_status=to_status)
        assert (event.actor, event.from_status, event.comment) == (user, from_status, "处理说明")
    elif (from_status, to_status) in HANDLER_MOVES | SUPERVISOR_MOVES:
        assert response.status_code == 403
        assert complaint.status == from_status
    else:
        assert response.status_code == 302  # refused with a message
        assert complaint.status == from_status
        assert complaint.events.count() == 1  # only the intake


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
@pytest.mark.parametrize("to_status", [S.ACKNOWLEDGED, S.ESCALATED])
def test_a_complaint_outside_ones_scope_is_404(
    request, role, to_status, make_complaint, client_for
):
    complaint = make_complaint()
    client = client_for(request.getfixturevalue(role))
    assert _post(client, complaint, to_status).status_code == 404
    assert client.get(complaint.get_absolute_url()).status_code == 404
    assert Complaint.objects.get(pk=complaint.pk).status == S.NEW


def test_a_stale_transition_is_refused_with_a_message(make_complaint, manager, manager2):
    complaint = make_complaint()
    stale = Complaint.objects.get(pk=complaint.pk)
    services.complaint_transition(complaint=complaint, to_status=S.ACKNOWLEDGED, by=manager)
    with pytest.raises(services.StaleComplaintError, match=complaint.reference):
        services.complaint_transition(complaint=stale, to_status=S.ACKNOWLEDGED, by=manager2)
    assert complaint.events.filter(to_status=S.ACKNOWLEDGED).count() == 1


def test_an_unsatisfied_customer_reopens_the_complaint(make_complaint, manager):
    complaint = make_complaint(status=S.RESOLVED)
    services.complaint_confirm(complaint=complaint, by=manager, satisfaction=4, satisfied=False)
    assert complaint.status == S.REOPENED and complaint.satisfaction == 4
    complaint = make_complaint(status=S.RESOLVED)
    services.complaint_confirm(complaint=complaint, by=manager, satisfaction=2, comment="还是慢")
    assert complaint.status == S.REOPENED
    complaint = make_complaint(status=S.RESOLVED)
    services.complaint_confirm(complaint=complaint, by=manager, satisfaction=5, comment="满意")
    assert complaint.status == S.CONFIRMED and complaint.satisfaction_comment == "满意"


def test_confirming_needs_a_satisfied_customer(make_complaint, manager):
    complaint = make_complaint(status=S.RESOLVED)
    with pytest.raises(BusinessRuleError):
        services.complaint_transition(
            complaint=complaint, to_status=S.CONFIRMED, by=manager, satisfaction=1
        )


def test_finance_cannot_act(make_complaint, finance):
    complaint = make_complaint()
    with pytest.raises(PermissionDenied):
        services.complaint_transition(complaint=complaint, to_status=S.ACKNOWLEDGED, by=finance)


def test_escalation_goes_to_the_department_head(make_complaint, manager, head):
    complaint = make_complaint(status=S.IN_PROGRESS)
    services.complaint_transition(
        complaint=complaint, to_status=S.ESCALATED, by=manager, comment="超出权限"
    )
    assert complaint.escalated_to == head and complaint.escalated_at is not None
    assert head.notifications.filter(link=complaint.get_absolute_url()).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_requests_make_one_transition(make_complaint, manager, manager2):
    complaint = make_complaint()
    results, barrier = [], threading.Barrier(2)

    def act(user):
        try:
            own = Complaint.objects.get(pk=complaint.pk)
            barrier.wait()
            services.complaint_transition(complaint=own, to_status=S.ACKNOWLEDGED, by=user)
            results.append("ok")
        except BusinessRuleError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(user,)) for user in (manager, manager2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "refused"]
    assert ComplaintEvent.objects.filter(complaint=complaint, to_status=S.ACKNOWLEDGED).count() == 1
