from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from accounts import permissions as base_permissions
from accounts.pagination import CappedCountPaginator
from accounts.views import get_customer_for_user, run_and_redirect

from . import deadlines, services
from . import permissions as perms
from .filters import ComplaintFilter
from .forms import (
    AttachmentForm,
    ComplaintForm,
    ConfirmationForm,
    FollowUpForm,
    NoteForm,
    TaskForceForm,
    TransitionForm,
)
from .models import Complaint, Status

# What the button says for each target status.
ACTION_LABELS = {
    Status.ACKNOWLEDGED: gettext_lazy("Acknowledge"),
    Status.IN_PROGRESS: gettext_lazy("Start work"),
    Status.ESCALATED: gettext_lazy("Escalate to the department head"),
    Status.RESOLVED: gettext_lazy("Mark resolved"),
    Status.CLOSED: gettext_lazy("Close"),
}


def get_complaint_for_user(request: HttpRequest, pk: int) -> Complaint:
    """Return a complaint the user may see, or 404."""
    return get_object_or_404(
        Complaint.objects.visible_to(request.user).select_related(
            "customer__department__head", "contact", "assignee", "escalated_to", "created_by"
        ),
        pk=pk,
    )


def scopes_for(user) -> list[tuple[str, str]]:
    scopes = [("mine", _("My complaints"))]
    if base_permissions.is_department_head(user):
        scopes.append(("department", _("My department's")))
    scopes.append(("all", _("All")))
    return scopes


class ComplaintListView(LoginRequiredMixin, FilterView):
    filterset_class = ComplaintFilter
    template_name = "complaints/complaint_list.html"
    context_object_name = "complaints"
    paginate_by = 25
    paginator_class = CappedCountPaginator

    def get_scope(self) -> str:
        scopes = dict(scopes_for(self.request.user))
        scope = self.request.GET.get("scope")
        if scope in scopes:
            return scope
        user = self.request.user
        if base_permissions.sees_everything(user):
            return "all"
        return "department" if "department" in scopes else "mine"

    def get_queryset(self):
        user = self.request.user
        queryset = Complaint.objects.visible_to(user).select_related("customer", "assignee")
        scope = self.get_scope()
        if scope == "mine":
            queryset = queryset.filter(
                Q(assignee=user) | Q(escalated_to=user, status=Status.ESCALATED)
            )
        elif scope == "department":
            queryset = queryset.filter(
                customer__department__in=base_permissions.headed_department_ids(user)
            )
        return queryset.order_by("-received_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["scope"] = self.get_scope()
        context["scopes"] = scopes_for(user)
        if context["scope"] == "mine":
            context["follow_ups_due"] = (
                Complaint.objects.filter(assignee=user)
                .follow_up_due(timezone.localdate())
                .select_related("customer")[:20]
            )
        return context


@login_required
def complaint_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, customer_pk)
    base_permissions.require(perms.can_create(request.user, customer))
    form = ComplaintForm(request.POST or None, request.FILES or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        attachments = data.pop("attachments", [])
        try:
            complaint = services.complaint_create(
                created_by=request.user, customer=customer, attachments=attachments, **data
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request, _("Complaint %(ref)s registered.") % {"ref": complaint.reference}
            )
            return redirect(complaint)
    return render(request, "complaints/complaint_form.html", {"form": form, "customer": customer})


def _timeline(complaint: Complaint) -> list[dict]:
    items = [
        {"at": e.at, "kind": "event", "event": e} for e in complaint.events.select_related("actor")
    ]
    items += [
        {"at": n.created_at, "kind": "note", "note": n}
        for n in complaint.notes.select_related("author")
    ]
    return sorted(items, key=lambda item: item["at"])


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    user = request.user
    allowed = perms.allowed_transitions(user, complaint)
    context = {
        "complaint": complaint,
        "customer": complaint.customer,
        "actions": [
            (status, ACTION_LABELS.get(status, Status(status).label))
            for status in allowed
            if status not in (Status.CONFIRMED, Status.REOPENED)
        ],
        "can_confirm": Status.CONFIRMED in allowed,
        "can_handle": perms.can_handle(user, complaint),
        "can_add_entries": perms.can_add_entries(user, complaint),
        "timeline": _timeline(complaint),
        "attachments": complaint.attachments.select_related("uploaded_by"),
        "task_force": complaint.task_force.select_related("user", "department"),
        "follow_ups": complaint.follow_ups.select_related("by"),
        "history": complaint.history.select_related("history_user")[:20],
        "confirmation_form": ConfirmationForm(),
        "note_form": NoteForm(),
        "follow_up_form": FollowUpForm(initial={"date": timezone.localdate()}),
        "attachment_form": AttachmentForm(),
        "task_force_form": TaskForceForm() if complaint.customer.tier == "A" else None,
        "follow_ups_open": complaint.status in (Status.RESOLVED, Status.CONFIRMED, Status.CLOSED)
        and complaint.impact_eliminated_at is None,
    }
    return render(request, "complaints/complaint_detail.html", context)


@require_POST
@login_required
def complaint_transition(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was not understood."))
        return redirect(complaint)
    to_status = form.cleaned_data["to_status"]
    if to_status not in Status.values:
        messages.error(request, _("The request was not understood."))
        return redirect(complaint)
    return run_and_redirect(
        request,
        lambda: services.complaint_transition(
            complaint=complaint,
            to_status=to_status,
            by=request.user,
            comment=form.cleaned_data["comment"],
            satisfaction=form.cleaned_data["satisfaction"],
        ),
        success=_("The complaint is now “%(status)s”.") % {"status": Status(to_status).label},
        to=complaint,
    )


@require_POST
@login_required
def complaint_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = ConfirmationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the customer's satisfaction from 1 to 5."))
        return redirect(complaint)
    return run_and_redirect(
        request,
        lambda: services.complaint_confirm(
            complaint=complaint,
            by=request.user,
            satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"],
            satisfied=False if form.cleaned_data["not_satisfied"] else None,
        ),
        success=_("The customer's verdict was recorded."),
        to=complaint,
    )


@require_POST
@login_required
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        return run_and_redirect(
            request,
            lambda: services.complaint_note_add(
                complaint=complaint, by=request.user, text=form.cleaned_data["text"]
            ),
            success=_("Entry added."),
            to=complaint,
        )
    return redirect(complaint)


@require_POST
@login_required
def follow_up_add(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        return run_and_redirect(
            request,
            lambda: services.follow_up_add(
                complaint=complaint, by=request.user, **form.cleaned_data
            ),
            success=_("Follow-up recorded."),
            to=complaint,
        )
    messages.error(request, _("Give the follow-up's date and a note."))
    return redirect(complaint)


@require_POST
@login_required
def impact_eliminate(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    return run_and_redirect(
        request,
        lambda: services.complaint_impact_eliminate(
            complaint=complaint, by=request.user, comment=request.POST.get("comment", "")
        ),
        success=_("Impact marked eliminated: no more follow-ups are due."),
        to=complaint,
    )


@require_POST
@login_required
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        return run_and_redirect(
            request,
            lambda: services.complaint_attachment_add(
                complaint=complaint, by=request.user, file=form.cleaned_data["file"]
            ),
            success=_("Attachment added."),
            to=complaint,
        )
    messages.error(request, " ".join(form.errors.get("file", [])))
    return redirect(complaint)


@require_POST
@login_required
def task_force_add(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_complaint_for_user(request, pk)
    form = TaskForceForm(request.POST)
    if form.is_valid():
        return run_and_redirect(
            request,
            lambda: services.complaint_task_force_add(
                complaint=complaint, by=request.user, **form.cleaned_data
            ),
            success=_("Added to the task force."),
            to=complaint,
        )
    messages.error(request, " ".join(form.non_field_errors()))
    return redirect(complaint)


def customer_tab(request: HttpRequest, customer) -> tuple[dict, str]:
    """The customer page's Complaints tab: count, breach rate and the latest complaints."""
    complaints = Complaint.objects.visible_to(request.user).filter(customer=customer)
    counts = complaints.aggregate(
        total=Count("pk"),
        breached=Count(
            "pk",
            filter=Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False),
        ),
        open=Count("pk", filter=~Q(status__in=[Status.CONFIRMED, Status.CLOSED])),
    )
    context = {
        "complaint_counts": counts,
        "complaint_breach_rate": deadlines.breach_rate(counts["total"], counts["breached"]),
        "complaints": complaints.select_related("assignee")[:10],
        "can_create_complaint": perms.can_create(request.user, customer),
    }
    return context, "complaints/partials/customer_tab.html"
