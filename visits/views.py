from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from accounts.errors import BusinessRuleError
from accounts.models import Customer
from accounts.permissions import require
from accounts.views import get_customer_for_user, run_and_redirect

from . import permissions, rules, selectors, services
from .filters import CareTaskFilter, PlannedVisitFilter
from .forms import CareExpenseForm, FeedbackForm, PlanCancelForm, PlanMoveForm, VisitRecordForm
from .models import CareStatus, CareTask, PlannedVisit, VisitRecord

PAGE_SIZE = 25


def _scope(request: HttpRequest) -> str:
    wanted = request.GET.get("scope", "mine")
    if wanted == "department" and permissions.sees_department_plans(request.user):
        return "department"
    return "mine"


def _error_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return error.message


class PlanListView(LoginRequiredMixin, FilterView):
    """My planned visits (or my department's), overdue first."""

    filterset_class = PlannedVisitFilter
    template_name = "visits/plan_list.html"
    context_object_name = "visits"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return selectors.plans_for(self.request.user, scope=_scope(self.request))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            scope=_scope(self.request),
            can_department=permissions.sees_department_plans(self.request.user),
            today=timezone.localdate(),
            query_string=query.urlencode(),
        )
        return context


@login_required
def plan_calendar(request: HttpRequest) -> HttpResponse:
    """A month of planned visits as a table; overdue ones listed above it."""
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    scope = _scope(request)
    visits = selectors.plans_for(request.user, scope=scope)
    by_day = defaultdict(list)
    for visit in visits.filter(due_date__range=(weeks[0][0], weeks[-1][-1])):
        by_day[visit.due_date].append(visit)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    context = {
        "scope": scope,
        "can_department": permissions.sees_department_plans(request.user),
        "month": first,
        "previous": previous,
        "following": following,
        "today": today,
        "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
        "overdue": list(visits.filter(due_date__lt=today)[:50]),
    }
    return render(request, "visits/plan_calendar.html", context)


def _get_plan(request: HttpRequest, pk: int) -> PlannedVisit:
    return get_object_or_404(
        PlannedVisit.objects.visible_to(request.user).select_related("customer", "assigned_to"),
        pk=pk,
    )


def _plan_action(request, pk, *, form_class, title, run):
    visit = _get_plan(request, pk)
    require(permissions.can_change_plan(request.user, visit))
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            run(visit, form.cleaned_data)
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("visits:list")
    return render(
        request, "visits/plan_action.html", {"form": form, "visit": visit, "title": title}
    )


@login_required
def plan_move(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_action(
        request,
        pk,
        form_class=PlanMoveForm,
        title=_("Move a planned visit"),
        run=lambda visit, data: services.planned_visit_move(
            visit=visit, new_date=data["new_date"], reason=data["reason"], moved_by=request.user
        ),
    )


@login_required
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_action(
        request,
        pk,
        form_class=PlanCancelForm,
        title=_("Cancel a planned visit"),
        run=lambda visit, data: services.planned_visit_cancel(
            visit=visit, reason=data["reason"], cancelled_by=request.user
        ),
    )


@login_required
def record_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, customer_pk)
    require(permissions.can_record_visit(request.user, customer))
    form = VisitRecordForm(
        request.POST if request.method == "POST" else None,
        customer=customer,
        initial={"date": timezone.localdate(), "participants": [request.user.pk]},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        participants = list(data.pop("participants"))
        contacts = list(data.pop("contacts"))
        try:
            record = services.visit_record_create(
                customer=customer,
                recorded_by=request.user,
                participants=participants,
                contacts=contacts,
                **data,
            )
        except services.TooFewParticipantsError as error:
            form.add_error("participants", error.message)
        except (BusinessRuleError, ValidationError) as error:
            form.add_error(None, _error_message(error))
        else:
            messages.success(request, _("The visit was recorded."))
            return redirect(record)
    open_plan = PlannedVisit.objects.open().filter(customer=customer).first()
    return render(
        request,
        "visits/record_form.html",
        {"form": form, "customer": customer, "open_plan": open_plan},
    )


@login_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        VisitRecord.objects.visible_to(request.user)
        .select_related("customer", "recorded_by")
        .prefetch_related("participants", "contacts"),
        pk=pk,
    )
    return render(request, "visits/record_detail.html", {"record": record})


def customer_tab(request: HttpRequest, customer: Customer) -> tuple[dict, str]:
    """The "Visits" tab of the customer page: plan, timeline, care budget, archive check."""
    today = timezone.localdate()
    context = {
        "visit_records": Paginator(selectors.customer_timeline(customer), 20).get_page(
            request.GET.get("page")
        ),
        "open_plan": PlannedVisit.objects.open()
        .filter(customer=customer)
        .select_related("assigned_to")
        .first(),
        "care_budget": services.care_budget(customer, year=today.year),
        "care_expenses": customer.care_expenses.filter(date__year=today.year)[:20],
        "can_record_visit": permissions.can_record_visit(request.user, customer),
        "archive_checks": customer.archive_checks.select_related("verified_by")[:5],
        "archive_state": rules.archive_check_state(
            timezone.localdate(customer.last_verified_at) if customer.last_verified_at else None,
            today,
        ),
        "today": today,
    }
    return context, "visits/partials/customer_tab_visits.html"


# --- Care ------------------------------------------------------------------------------------


class CareTaskListView(LoginRequiredMixin, FilterView):
    filterset_class = CareTaskFilter
    template_name = "visits/care_list.html"
    context_object_name = "tasks"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        tasks = CareTask.objects.select_related("customer", "contact", "holiday", "assigned_to")
        if _scope(self.request) == "department":
            tasks = tasks.visible_to(self.request.user)
        else:
            tasks = tasks.filter(assigned_to=self.request.user)
        return tasks.order_by("status", "due_date", "pk")

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if kwargs["data"] is None or "status" not in kwargs["data"]:
            data = kwargs["data"].copy() if kwargs["data"] is not None else {}
            data["status"] = CareStatus.OPEN
            kwargs["data"] = data
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            scope=_scope(self.request),
            can_department=permissions.sees_department_plans(self.request.user),
            query_string=query.urlencode(),
        )
        return context


@login_required
@require_POST
def care_task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(CareTask.objects.visible_to(request.user), pk=pk)
    return run_and_redirect(
        request,
        lambda: services.care_task_done(
            task=task, done_by=request.user, note=request.POST.get("note", "")
        ),
        success=_("Marked as done."),
        to="visits:care_list",
    )


@login_required
def care_expense_add(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, customer_pk)
    require(permissions.can_keep_care(request.user, customer))
    form = CareExpenseForm(
        request.POST if request.method == "POST" else None,
        initial={"date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            _expense, status = services.care_expense_add(
                customer=customer, recorded_by=request.user, **form.cleaned_data
            )
        except (BusinessRuleError, ValidationError) as error:
            form.add_error(None, _error_message(error))
        else:
            if status.over:
                messages.warning(
                    request,
                    _("Care spending this year (¥%(spent)s) is over the budget of ¥%(budget)s.")
                    % {"spent": f"{status.spent:,.2f}", "budget": f"{status.budget:,.2f}"},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect(f"{customer.get_absolute_url()}?tab=visits")
    return render(
        request,
        "accounts/customer_child_form.html",
        {"form": form, "customer": customer, "title": _("Record a gift or event"), "tab": "visits"},
    )


# --- Information feedback --------------------------------------------------------------------


@login_required
def feedback_create(request: HttpRequest) -> HttpResponse:
    form = FeedbackForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"customer": request.GET.get("customer")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_submit(submitted_by=request.user, **form.cleaned_data)
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Thank you: the feedback was filed."))
            return redirect("visits:feedback_compliance")
    return render(request, "visits/feedback_form.html", {"form": form})


@login_required
def feedback_compliance(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    rows = selectors.feedback_compliance_rows(
        managers=selectors.compliance_managers(request.user), year=first.year, month=first.month
    )
    context = {
        "rows": rows,
        "month": first,
        "previous": (first - timedelta(days=1)).replace(day=1),
        "following": (first + timedelta(days=32)).replace(day=1),
        "quota_total": rules.FEEDBACK_MONTHLY_TOTAL,
        "quota_by_tier": rules.FEEDBACK_MONTHLY_BY_TIER,
        "short_count": sum(1 for row in rows if not row["result"].compliant),
    }
    return render(request, "visits/feedback_compliance.html", context)


# --- Quarterly archive check -----------------------------------------------------------------


@login_required
def archive_checks(request: HttpRequest) -> HttpResponse:
    """Customers whose archive has not been verified this quarter, overdue first."""
    today = timezone.localdate()
    customers = Customer.objects.visible_to(request.user)
    if _scope(request) != "department":
        customers = customers.filter(primary_manager=request.user)
    pending, last_quarter = services.archive_checks_pending(customers, today=today)
    pending = pending.select_related("primary_manager").order_by("checked", "pk")
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "customers": page.object_list,
        "paginator": page.paginator,
        "last_quarter": last_quarter,
        "quarter_start": rules.quarter_start(today),
        "quarter_end": rules.quarter_end(today),
        "scope": _scope(request),
        "can_department": permissions.sees_department_plans(request.user),
    }
    return render(request, "visits/archive_checks.html", context)


@login_required
@require_POST
def archive_verify(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, customer_pk)
    services.archive_verify(
        customer=customer, verified_by=request.user, note=request.POST.get("note", "")
    )
    messages.success(request, _("The archive was marked as verified."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = f"{customer.get_absolute_url()}?tab=visits"
    return redirect(target)
