"""Django admin is a write path: no guarded field can be written there, no audit row changed.

The walk goes over every ModelAdmin registered for a project model (so models added later are
covered too) and, as a superuser, builds the add form and the change form of a real object,
with its inlines. The guarded fields are listed here by model and, for models not yet known,
by name.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import helpers
from django.forms import MultiWidget
from django.test import RequestFactory
from django.urls import reverse

from accounts import services as accounts_services
from accounts.models import (
    AdmissionDecision,
    AdmissionRequest,
    AssignmentChange,
    Customer,
    CustomerStatus,
    Handover,
)
from complaints import services as complaint_services
from complaints.models import Complaint
from contracts.models import ApprovalStep, Contract
from tests.contracts.factories import admitted_customer, submitted_contract
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TransactionFactory,
    complete_checklist,
)
from tests.helpers import zh
from tests.tiers.factories import SHANGHAI, big_profit_customer, worked_example_customer
from tiers import services as tier_services
from tiers.models import Appeal, Grade, GradingRun
from visits import services as visit_services
from visits.models import PlannedVisit

PROJECT_APPS = {
    "accounts",
    "notifications",
    "tiers",
    "visits",
    "complaints",
    "contracts",
    "dashboard",
}

# Fields only a service may write, by model.
GUARDED = {
    "accounts.Customer": {
        "status",
        "department",
        "primary_manager",
        "assistant_manager",
        "chief_manager",
        "tier",
        "score",
        "credit_terms",
        "credit_limit",
    },
    "accounts.AdmissionRequest": {"decision", "decided_by", "decided_at", "comment"},
    "accounts.QualificationDocument": {"verified_by", "verified_at"},
    "accounts.Transaction": {"amount", "due_date", "paid_date"},
    "contracts.Contract": {"status", "owner", "amount", "discount_percent"},
    "contracts.ApprovalRound": {"outcome"},
    "contracts.ApprovalStep": {"status", "decided_by", "decided_at", "comment"},
    "contracts.Collection": {"amount", "confirmed_by", "confirmed_at"},
    "contracts.CreditOverride": {"max_amount", "approved_by", "used_at"},
    "complaints.Complaint": {"status", "assignee", "escalated_to", "satisfaction"},
    "tiers.Appeal": {"status", "decided_by", "decided_at", "new_tier"},
    "tiers.GradingRun": {"status", "published_at", "published_by"},
    "tiers.Grade": {"score", "tier", "computed_tier", "previous_tier", "overridden_by"},
    "tiers.ScoringModel": {"is_active"},
    "visits.PlannedVisit": {"status", "assigned_to", "due_date", "closed_by"},
    "visits.CareTask": {"status", "done_by"},
}
# On any model, whatever its name: a workflow state, a manager, a tier, a credit term.
GUARDED_NAMES = {
    "status",
    "decision",
    "outcome",
    "tier",
    "score",
    "credit_terms",
    "credit_limit",
    "decided_by",
    "decided_at",
    "approved_by",
    "confirmed_by",
}
GUARDED_SUFFIXES = ("_manager",)  # foreign keys only: a customer's managers
# Configuration whose fields share a guarded name: a tier's service policy is keyed by tier.
CONFIGURATION = {"tiers.TierPolicy"}

# Audit, history and event models: no add, change or delete at all.
AUDIT = {
    "accounts.AdmissionRequest",
    "accounts.AssignmentChange",
    "accounts.Handover",
    "accounts.PoolWarning",
    "accounts.DataTransferLog",
    "complaints.ComplaintEvent",
    "complaints.ComplaintNote",
    "complaints.TaskForceMember",
    "complaints.ComplaintAttachment",
    "complaints.FollowUp",
    "contracts.ApprovalRound",
    "contracts.ApprovalStep",
    "contracts.CollectionAllocation",
    "notifications.Notification",
    "tiers.Assessment",
    "tiers.Grade",
    "tiers.GradingRun",
    "tiers.TierChange",
    "tiers.Appeal",
    "visits.ArchiveCheck",
    "visits.VisitReminder",
}
AUDIT_SUFFIXES = ("Change", "Event", "Log", "History", "Decision", "Step", "Round", "Warning")

NEW_FIELD_VALUE = "changed by admin"


def guarded_fields(model) -> set[str]:
    explicit = GUARDED.get(model._meta.label, set())
    if model._meta.label in CONFIGURATION:
        return explicit
    fields = [f for f in model._meta.get_fields() if getattr(f, "concrete", False)]
    by_name = {f.name for f in fields if f.name in GUARDED_NAMES}
    managers = {f.name for f in fields if f.many_to_one and f.name.endswith(GUARDED_SUFFIXES)}
    return by_name | managers | explicit


def is_audit(model) -> bool:
    name = model.__name__
    return (
        model._meta.label in AUDIT or name.startswith("Historical") or name.endswith(AUDIT_SUFFIXES)
    )


def project_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS
    ]


@pytest.fixture
def world(east, manager, manager2, head, executive, finance, admin_user, other_manager):
    """One real object of as many admin models as the services make."""
    customer = admitted_customer(manager=manager)
    ContactFactory(customer=customer)
    TransactionFactory(customer=customer)
    accounts_services.customer_assign_manager(
        customer=customer,
        role="assistant_manager",
        user=manager2,
        assigned_by=head,
        reason="Second pair of hands",
    )
    prospect = CustomerFactory(department=east, primary_manager=manager)
    complete_checklist(prospect)
    accounts_services.admission_submit(customer=prospect, submitted_by=manager)
    Handover.objects.create(from_user=manager2, to_user=manager, performed_by=head, reason="x")
    submitted_contract(owner=manager, customer=customer)
    complaint_services.complaint_create(
        created_by=manager,
        customer=customer,
        channel="phone",
        category="delivery",
        severity="high",
        description="Late delivery",
        received_at=datetime.datetime(2026, 9, 1, 9, tzinfo=SHANGHAI),
    )
    visit_services.visit_plan_regenerate(customer_ids=[customer.pk])
    graded = worked_example_customer(department=east, primary_manager=manager)
    big_profit_customer(department=east, primary_manager=manager, tier="B")
    run = tier_services.grading_run_compute(period="2026Q3")
    tier_services.grading_run_start_review(run=run, started_by=executive)
    with time_machine.travel(datetime.datetime(2026, 10, 2, 9, tzinfo=SHANGHAI)):
        tier_services.grading_run_publish(run=run, published_by=executive)
    with time_machine.travel(datetime.datetime(2026, 10, 3, 9, tzinfo=SHANGHAI)):
        tier_services.appeal_file(
            grade=Grade.objects.get(customer=graded),
            filed_by=manager,
            reason="New contract",
            requested_tier="B",
        )
    customer.refresh_from_db()
    return {"customer": customer, "prospect": prospect}


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _editable(model_admin, request, obj) -> set[str]:
    form = model_admin.get_form(request, obj, change=obj is not None)
    return set(form.base_fields)


def test_no_admin_form_or_inline_lets_a_superuser_write_a_guarded_field(world, admin_user):
    request = _request(admin_user)
    problems = []
    for model, model_admin in project_admins():
        label = model._meta.label
        guarded = guarded_fields(model)
        obj = model._default_manager.order_by("pk").first() or model()
        forms = {"change": obj}
        if model_admin.has_add_permission(request):
            forms["add"] = None
        for kind, instance in forms.items():
            written = guarded & _editable(model_admin, request, instance)
            if written:
                problems.append(f"{label} {kind} form writes {sorted(written)}")
        editable_list = set(model_admin.list_editable or ()) & guarded
        if editable_list:
            problems.append(f"{label} list_editable writes {sorted(editable_list)}")
        if model_admin.has_delete_permission(request, obj):
            problems.append(f"{label} can be deleted")
        for inline in model_admin.get_inline_instances(request, obj):
            inline_label = inline.model._meta.label
            if inline.has_delete_permission(request, obj):
                problems.append(f"{label} inline {inline_label} deletes rows")
            if is_audit(inline.model) and (
                inline.has_add_permission(request, obj)
                or inline.has_change_permission(request, obj)
            ):
                problems.append(f"{label} inline {inline_label} writes an audit row")
            formset = inline.get_formset(request, obj)
            written = guarded_fields(inline.model) & set(formset.form.base_fields)
            if written:
                problems.append(f"{label} inline {inline_label} writes {sorted(written)}")
    assert problems == [], problems


def test_the_walk_uses_real_objects_of_the_guarded_models(world):
    missing = [
        label
        for label in GUARDED.keys()
        - {"contracts.Collection", "contracts.CreditOverride", "visits.CareTask"}
        if not apps.get_model(label)._default_manager.exists()
    ]
    assert missing == []


def test_no_audit_history_or_event_model_can_be_added_changed_or_deleted(world, admin_user):
    request = _request(admin_user)
    writable = []
    for model, model_admin in project_admins():
        if not is_audit(model):
            continue
        obj = model._default_manager.order_by("pk").first() or model()
        if model_admin.has_add_permission(request):
            writable.append(f"{model._meta.label}: add")
        if model_admin.has_change_permission(request, obj):
            writable.append(f"{model._meta.label}: change")
        if model_admin.has_delete_permission(request, obj):
            writable.append(f"{model._meta.label}: delete")
    assert writable == []
    # The walk did check them, AssignmentChange among them.
    assert admin.site._registry[AssignmentChange].has_change_permission(request) is False


def test_the_audit_models_are_still_readable_by_an_admin(world, client_for, admin_user):
    client = client_for(admin_user)
    change = AssignmentChange.objects.first()
    response = client.get(reverse("admin:accounts_assignmentchange_change", args=[change.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


# --- Posting a changed value to the change view changes nothing -----------------------------


def _change_post(client, obj, **changes):
    """Post the change form as rendered, with some values changed."""
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(field.widget, MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = str(part)
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None:
                    data[inline_form.add_prefix(name)] = str(value)
    data.update(changes)
    data["_save"] = "Save"
    return client.post(url, data)


def test_a_superuser_posting_a_customers_status_managers_tier_and_credit_changes_none(
    world, client_for, admin_user, manager, manager2, other_manager
):
    customer = world["customer"]
    before = Customer.objects.filter(pk=customer.pk).values().get()
    response = _change_post(
        client_for(admin_user),
        customer,
        notes=NEW_FIELD_VALUE,
        status=CustomerStatus.TERMINATED,
        primary_manager=str(other_manager.pk),
        assistant_manager="",
        department=str(other_manager.department_id),
        tier="A",
        score="99.0",
        credit_terms="90",
        credit_limit="50000000",
    )
    assert response.status_code == 302
    after = Customer.objects.filter(pk=customer.pk).values().get()
    assert after["notes"] == NEW_FIELD_VALUE  # the post did save the descriptive field
    for name in GUARDED["accounts.Customer"]:
        column = Customer._meta.get_field(name).attname
        assert after[column] == before[column], name


def test_posting_a_decision_to_an_admission_or_an_approval_step_is_refused(
    world, client_for, admin_user
):
    client = client_for(admin_user)
    admission = AdmissionRequest.objects.get(customer=world["prospect"])
    step = ApprovalStep.objects.filter(status="pending").first()
    for obj, changes in (
        (admission, {"decision": AdmissionDecision.APPROVED}),
        (step, {"status": "approved"}),
    ):
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        response = client.post(url, {**changes, "_save": "Save"})
        assert response.status_code == 403
    admission.refresh_from_db()
    step.refresh_from_db()
    assert admission.decision == AdmissionDecision.PENDING
    assert step.status == "pending"


@pytest.mark.parametrize(
    ("model", "changes", "descriptive"),
    [
        (Complaint, {"status": "closed"}, {"description": NEW_FIELD_VALUE}),
        (Contract, {"status": "active", "amount": "1.00"}, {"title": NEW_FIELD_VALUE}),
        (PlannedVisit, {"status": "completed", "due_date": "2030-01-01"}, {}),
    ],
)
def test_posting_a_workflow_state_to_the_change_view_changes_nothing(
    world, client_for, admin_user, model, changes, descriptive
):
    obj = model.objects.order_by("pk").first()
    before = model.objects.filter(pk=obj.pk).values(*changes).get()
    response = _change_post(client_for(admin_user), obj, **changes, **descriptive)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert model.objects.filter(pk=obj.pk).values(*changes).get() == before
    for name, value in descriptive.items():
        assert getattr(model.objects.get(pk=obj.pk), name) == value


def test_an_appeal_grade_and_grading_run_cannot_be_changed_by_post(world, client_for, admin_user):
    client = client_for(admin_user)
    for obj, changes in (
        (Appeal.objects.get(), {"status": "upheld", "new_tier": "A"}),
        (Grade.objects.first(), {"tier": "A", "score": "99"}),
        (GradingRun.objects.get(), {"status": "closed"}),
    ):
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        before = type(obj).objects.filter(pk=obj.pk).values(*changes).get()
        assert client.post(url, {**changes, "_save": "Save"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).values(*changes).get() == before


def test_reverting_a_customer_to_an_old_version_in_the_history_is_refused(
    world, client_for, admin_user
):
    customer = world["customer"]
    oldest = customer.history.order_by("history_id").first()
    assert oldest.assistant_manager_id is None and customer.assistant_manager_id is not None
    url = reverse("admin:accounts_customer_simple_history", args=[customer.pk, oldest.history_id])
    response = client_for(admin_user).post(url, {"name": customer.name, "_save": "Save"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.assistant_manager_id is not None


# --- State changes are admin actions calling the services -----------------------------------


def _action(client, model, action: str, objects, **data):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(
        url,
        {
            "action": action,
            helpers.ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects],
            **data,
        },
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_terminating_a_customer_asks_for_a_reason_then_calls_the_service(
    world, client_for, admin_user
):
    customer = world["customer"]
    client = client_for(admin_user)
    page = _action(client, Customer, "terminate", [customer])
    assert page.templates[0].name == "admin/crm_state_action.html"
    assert customer.name in page.content.decode()
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE  # nothing written before the reason
    _action(client, Customer, "terminate", [customer], confirm="yes", reason="Moved abroad")
    customer.refresh_from_db()
    assert (customer.status, customer.terminated_reason) == ("terminated", "Moved abroad")
    assert customer.history.first().history_user == admin_user  # the admin is the actor
    again = _action(client, Customer, "terminate", [customer], confirm="yes", reason="Again")
    assert _messages(again) == [
        zh("%(object)s: %(reason)s", object=customer.name, reason=zh("you may not do this."))
    ]
    customer.refresh_from_db()
    assert customer.terminated_reason == "Moved abroad"


def test_marking_a_prospect_dormant_is_refused_with_a_message(world, client_for, admin_user):
    prospect = world["prospect"]
    response = _action(client_for(admin_user), Customer, "mark_dormant", [prospect])
    assert zh("The customer's status has changed; reload the page.") in _messages(response)[0]
    prospect.refresh_from_db()
    assert prospect.status == CustomerStatus.PENDING_ADMISSION


def test_rejecting_an_admission_through_the_action_needs_a_reason_and_decides_once(
    world, client_for, admin_user
):
    admission = AdmissionRequest.objects.get(customer=world["prospect"])
    client = client_for(admin_user)
    page = _action(client, AdmissionRequest, "reject", [admission], confirm="yes", reason="")
    assert page.templates[0].name == "admin/crm_state_action.html"  # asked again
    admission.refresh_from_db()
    assert admission.decision == AdmissionDecision.PENDING
    _action(client, AdmissionRequest, "reject", [admission], confirm="yes", reason="No licence")
    admission.refresh_from_db()
    assert (admission.decision, admission.decided_by, admission.comment) == (
        AdmissionDecision.REJECTED,
        admin_user,
        "No licence",
    )
    again = _action(client, AdmissionRequest, "approve", [admission], confirm="yes", reason="")
    assert zh("This admission request has already been decided.") in _messages(again)[0]
    admission.refresh_from_db()
    assert admission.decision == AdmissionDecision.REJECTED


def test_a_staff_user_without_the_right_is_refused_by_the_service(world, client_for, manager):
    _staff_viewer(manager, "view_admissionrequest")
    admission = AdmissionRequest.objects.get(customer=world["prospect"])
    response = _action(
        client_for(manager), AdmissionRequest, "approve", [admission], confirm="yes", reason=""
    )
    assert _messages(response) == [
        zh("%(object)s: %(reason)s", object=str(admission), reason=zh("you may not do this."))
    ]
    admission.refresh_from_db()
    assert admission.decision == AdmissionDecision.PENDING


def test_publishing_a_published_run_again_is_refused_and_changes_nothing(
    world, client_for, admin_user
):
    run = GradingRun.objects.get()
    published_at = run.published_at
    response = _action(client_for(admin_user), GradingRun, "publish", [run])
    assert len(_messages(response)) == 1 and str(run) in _messages(response)[0]
    run.refresh_from_db()
    assert run.published_at == published_at


def test_a_complaint_moves_through_the_action_only_where_the_workflow_allows(
    world, client_for, admin_user
):
    complaint = Complaint.objects.get()
    client = client_for(admin_user)
    refused = _action(
        client, Complaint, "transition", [complaint], confirm="yes", choice="closed", reason=""
    )
    assert "error" in refused.content.decode() and _messages(refused)
    complaint.refresh_from_db()
    assert complaint.status == "new"
    _action(
        client,
        Complaint,
        "transition",
        [complaint],
        confirm="yes",
        choice="acknowledged",
        reason="",
    )
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    assert complaint.events.filter(to_status="acknowledged", actor=admin_user).exists()


def _staff_viewer(user, codename: str):
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_an_approval_step_is_decided_through_the_service_by_its_decider_only(
    world, client_for, admin_user
):
    from contracts.services import deciders_for

    step = ApprovalStep.objects.get(status="pending")
    refused = _action(
        client_for(admin_user), ApprovalStep, "reject", [step], confirm="yes", reason="Price"
    )
    assert _messages(refused) == [
        zh("%(object)s: %(reason)s", object=str(step), reason=zh("you may not do this."))
    ]
    assert ApprovalStep.objects.get(pk=step.pk).status == "pending"
    decider = _staff_viewer(deciders_for(step).first(), "view_approvalstep")
    client = client_for(decider)
    _action(client, ApprovalStep, "reject", [step], confirm="yes", reason="Price")
    step.refresh_from_db()
    assert (step.status, step.decided_by, step.comment) == ("rejected", decider, "Price")
    again = _action(client, ApprovalStep, "approve", [step], confirm="yes", reason="")
    assert zh("This step has already been decided.") in _messages(again)[0]
    assert ApprovalStep.objects.get(pk=step.pk).status == "rejected"


def test_cancelling_a_planned_visit_asks_for_a_reason_and_plans_the_next(
    world, client_for, admin_user
):
    visit = PlannedVisit.objects.get(customer=world["customer"], status="planned")
    client = client_for(admin_user)
    _action(client, PlannedVisit, "cancel", [visit], confirm="yes", reason="Customer closed")
    visit.refresh_from_db()
    assert (visit.status, visit.reason, visit.closed_by) == (
        "cancelled",
        "Customer closed",
        admin_user,
    )
    again = _action(client, PlannedVisit, "cancel", [visit], confirm="yes", reason="Again")
    assert _messages(again)
    assert PlannedVisit.objects.get(pk=visit.pk).reason == "Customer closed"


def test_an_appeal_is_decided_through_the_service_once(world, client_for, admin_user):
    appeal = Appeal.objects.get()
    client = client_for(admin_user)
    _action(client, Appeal, "reject", [appeal], confirm="yes", reason="No basis")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.comment) == (
        "rejected",
        admin_user,
        "No basis",
    )
    again = _action(client, Appeal, "uphold", [appeal], confirm="yes", reason="Yes")
    assert zh("This appeal has already been decided.") in _messages(again)[0]
    appeal.refresh_from_db()
    assert (appeal.status, appeal.new_tier) == ("rejected", "")


def test_a_manager_is_changed_through_the_assignment_service_with_its_checks(
    world, client_for, admin_user, manager, manager2, other_manager
):
    customer = world["customer"]
    client = client_for(admin_user)
    changes = AssignmentChange.objects.count()
    same = {"role": "primary_manager", "user": str(manager2.pk), "reason": "Swap"}
    refused = _action(client, Customer, "assign_manager", [customer], confirm="yes", **same)
    assert _messages(refused) == [
        zh(
            "%(object)s: %(reason)s",
            object=customer.name,
            reason=zh("The primary and assistant manager must be two different people."),
        )
    ]
    customer.refresh_from_db()
    assert (customer.primary_manager, customer.assistant_manager) == (manager, manager2)
    assert AssignmentChange.objects.count() == changes
    moved = {"role": "assistant_manager", "user": str(other_manager.pk), "reason": "Cover"}
    _action(client, Customer, "assign_manager", [customer], confirm="yes", **moved)
    customer.refresh_from_db()
    assert customer.assistant_manager == other_manager  # an admin may cross departments
    change = AssignmentChange.objects.latest("pk")
    assert (change.old_user, change.new_user, change.changed_by, change.reason) == (
        manager2,
        other_manager,
        admin_user,
        "Cover",
    )


def test_a_staff_manager_cannot_change_managers_or_status_through_admin_actions(
    world, client_for, manager, other_manager
):
    customer = world["customer"]
    client = client_for(_staff_viewer(other_manager, "view_customer"))
    swap = {"role": "primary_manager", "user": str(other_manager.pk), "reason": "Mine now"}
    for action, data in (
        ("assign_manager", swap),
        ("terminate", {"reason": "Gone"}),
        ("mark_dormant", {}),
    ):
        response = _action(client, Customer, action, [customer], confirm="yes", **data)
        assert _messages(response) == [
            zh("%(object)s: %(reason)s", object=customer.name, reason=zh("you may not do this."))
        ], action
    customer.refresh_from_db()
    assert (customer.status, customer.primary_manager) == (CustomerStatus.ACTIVE, manager)


def test_a_contact_saved_in_admin_goes_through_the_service_keeping_one_primary(
    world, client_for, admin_user
):
    from accounts.models import Contact

    customer = world["customer"]
    first = customer.contacts.get()
    Contact.objects.filter(pk=first.pk).update(is_primary=True)
    second = ContactFactory(customer=customer, is_primary=False)
    response = _change_post(client_for(admin_user), second, is_primary="on", title="采购总监")
    assert response.status_code == 302
    primaries = list(customer.contacts.filter(is_primary=True).values_list("pk", flat=True))
    assert primaries == [second.pk]
    second.refresh_from_db()
    assert second.title == "采购总监"
    assert second.history.first().history_user == admin_user


def test_every_admin_list_and_change_page_renders_and_audit_pages_offer_no_save(
    world, client_for, admin_user
):
    client = client_for(admin_user)
    broken = []
    for model, _model_admin in project_admins():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if client.get(reverse(f"{prefix}_changelist")).status_code != 200:
            broken.append(f"{model._meta.label} list")
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        page = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        if page.status_code != 200:
            broken.append(f"{model._meta.label} change: {page.status_code}")
        elif is_audit(model) and b'name="_save"' in page.content:
            broken.append(f"{model._meta.label} offers to save")
    assert broken == []
