"""Who may do what to a complaint. The workflow's allowed transitions are data, here."""

from __future__ import annotations

from accounts import permissions as base

from .models import Complaint, Status


class Actor:
    """A user's relations to one complaint (a user may hold several)."""

    ASSIGNEE = "assignee"
    MANAGER = "manager"  # primary or assistant manager of the customer
    HEAD = "head"  # head of the customer's department
    EXECUTIVE = "executive"
    ADMIN = "admin"
    TASK_FORCE = "task_force"


HANDLERS = frozenset({Actor.ASSIGNEE, Actor.MANAGER, Actor.HEAD, Actor.ADMIN})
SUPERVISORS = frozenset({Actor.HEAD, Actor.EXECUTIVE, Actor.ADMIN})

# (from, to) → who may make that transition. Nothing else exists.
# The deadline job may also escalate (as the system) wherever (x, ESCALATED) is listed.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.NEW, Status.ACKNOWLEDGED): HANDLERS,
    (Status.NEW, Status.ESCALATED): HANDLERS,
    (Status.ACKNOWLEDGED, Status.IN_PROGRESS): HANDLERS,
    (Status.ACKNOWLEDGED, Status.ESCALATED): HANDLERS,
    (Status.IN_PROGRESS, Status.ESCALATED): HANDLERS,
    (Status.IN_PROGRESS, Status.RESOLVED): HANDLERS,
    (Status.ESCALATED, Status.IN_PROGRESS): SUPERVISORS,
    (Status.ESCALATED, Status.RESOLVED): SUPERVISORS,
    # Recording the customer's verdict: satisfied confirms, not satisfied reopens.
    (Status.RESOLVED, Status.CONFIRMED): HANDLERS,
    (Status.RESOLVED, Status.REOPENED): HANDLERS,
    (Status.REOPENED, Status.IN_PROGRESS): HANDLERS,
    (Status.REOPENED, Status.ESCALATED): HANDLERS,
    (Status.CONFIRMED, Status.CLOSED): HANDLERS | SUPERVISORS,
}


def next_statuses(status: str) -> list[str]:
    return [to for (from_, to) in TRANSITIONS if from_ == status]


def actors(user, complaint: Complaint) -> frozenset[str]:
    """Return the user's relations to the complaint (the customer must be loaded)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    found = set()
    customer = complaint.customer
    if complaint.assignee_id == user.pk:
        found.add(Actor.ASSIGNEE)
    if base.manages_customer(user, customer):
        found.add(Actor.MANAGER)
    if base.heads_department(user, customer.department_id):
        found.add(Actor.HEAD)
    if base.is_executive(user):
        found.add(Actor.EXECUTIVE)
    if base.is_admin(user):
        found.add(Actor.ADMIN)
    if is_task_force_member(user, complaint):
        found.add(Actor.TASK_FORCE)
    return frozenset(found)


def is_task_force_member(user, complaint: Complaint) -> bool:
    cached = getattr(complaint, "_task_force_cache", None)
    if cached is None:
        cached = list(complaint.task_force.values_list("user_id", "department_id"))
        complaint._task_force_cache = cached
    return any(
        user_id == user.pk or (department_id and department_id == user.department_id)
        for user_id, department_id in cached
    )


def can_transition(user, complaint: Complaint, to_status: str) -> bool:
    allowed = TRANSITIONS.get((complaint.status, to_status))
    return bool(allowed and allowed & actors(user, complaint))


def allowed_transitions(user, complaint: Complaint) -> list[str]:
    mine = actors(user, complaint)
    return [
        to for (from_, to), who in TRANSITIONS.items() if from_ == complaint.status and who & mine
    ]


def can_create(user, customer) -> bool:
    return not customer.is_terminated and (
        base.is_admin(user)
        or base.is_executive(user)
        or base.manages_customer(user, customer)
        or base.heads_department(user, customer.department_id)
    )


def can_handle(user, complaint: Complaint) -> bool:
    """Handlers and supervisors manage the task force and mark the impact eliminated."""
    return bool(actors(user, complaint) & (HANDLERS | SUPERVISORS))


def can_add_entries(user, complaint: Complaint) -> bool:
    """Handlers, supervisors and the task force write entries, follow-ups and attachments."""
    return bool(actors(user, complaint) & (HANDLERS | SUPERVISORS | {Actor.TASK_FORCE}))
