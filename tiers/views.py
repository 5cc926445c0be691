from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView
from django_filters.views import FilterView

from accounts.errors import BusinessRuleError
from accounts.permissions import require
from accounts.views import get_customer_for_user, run_and_redirect

from . import computation, scoring, selectors, services
from . import permissions as perms
from .filters import AppealFilter, GradeFilter
from .forms import AppealDecisionForm, AppealForm, AssessmentForm, OverrideForm, PeriodForm
from .models import (
    Appeal,
    AppealStatus,
    Grade,
    GradingRun,
    IndicatorSource,
    RunStatus,
    ScoringModel,
)


def _query_string(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Runs ----------------------------------------------------------------------------------------


class RunListView(LoginRequiredMixin, ListView):
    template_name = "tiers/gradingrun_list.html"
    context_object_name = "runs"
    paginate_by = 25

    def get_queryset(self):
        return GradingRun.objects.select_related("scoring_model", "published_by").order_by(
            "-period"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_compute"] = perms.can_compute(self.request.user)
        context["period_form"] = PeriodForm(initial={"period": self._default_period()})
        context["pending_appeals"] = (
            Appeal.objects.visible_to(self.request.user).filter(status=AppealStatus.PENDING).count()
        )
        return context

    @staticmethod
    def _default_period() -> str:
        from django.utils import timezone

        return str(scoring.period_just_ended(timezone.localdate()))


@login_required
@require_POST
def run_compute(request: HttpRequest) -> HttpResponse:
    require(perms.can_compute(request.user))
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a period such as 2026Q3."))
        return redirect("tiers:run_list")
    try:
        period = scoring.parse_period(form.cleaned_data["period"])
        run = services.grading_run_compute(period=period, computed_by=request.user)
    except scoring.PeriodError:
        messages.error(request, _("Enter a period such as 2026Q3 (quarters 1 to 4)."))
        return redirect("tiers:run_list")
    except BusinessRuleError as error:
        messages.error(request, error.message)
        return redirect("tiers:run_list")
    if run.is_editable:
        # A run that will not be publishable says so on its own page, where this leads.
        messages.success(request, _("Grading %(period)s computed.") % {"period": run.period})
    else:
        messages.warning(
            request, _("Grading %(period)s is already published.") % {"period": run.period}
        )
    return redirect(run)


class RunDetailView(LoginRequiredMixin, FilterView):
    filterset_class = GradeFilter
    template_name = "tiers/gradingrun_detail.html"
    context_object_name = "grades"
    paginate_by = 25

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:  # the anonymous are sent to log in
            require(perms.can_see_runs(request.user))
        self.run = get_object_or_404(
            GradingRun.objects.select_related("scoring_model", "published_by"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return (
            Grade.objects.visible_to(self.request.user)
            .filter(run=self.run)
            .select_related("customer", "customer__department", "overridden_by")
            .order_by("-score", "customer_id")
        )

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["user"] = self.request.user
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        run = self.run
        context.update(
            run=run,
            labels=run.scoring_model.labels,
            preceding_run=computation.preceding_published_run(run.period),
            query_string=_query_string(self.request),
            can_start_review=perms.can_start_review(user) and run.status == RunStatus.COMPUTED,
            can_publish=perms.can_publish(user) and run.status == RunStatus.UNDER_REVIEW,
            publication_problem=services.grading_run_publication_problem(run)
            if run.is_editable
            else None,
            can_close=perms.can_publish(user) and run.status == RunStatus.PUBLISHED,
        )
        appealable = services.appeal_problem(Grade(run=run)) is None
        for grade in context["grades"]:
            grade.can_override = run.is_editable and perms.can_override(user, grade.customer)
            grade.can_appeal = appealable and perms.can_appeal(user, grade.customer)
        return context


@login_required
@require_POST
def run_start_review(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(GradingRun, pk=pk)
    require(perms.can_start_review(request.user))
    return run_and_redirect(
        request,
        lambda: services.grading_run_start_review(run=run, started_by=request.user),
        success=_("Sent to the department heads for review."),
        to=run,
    )


PUBLISH_CHANGES_PER_PAGE = 50


@login_required
def run_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page (the tier distribution before and after, the customers whose
    tier changes); POST: publish."""
    run = get_object_or_404(GradingRun.objects.select_related("scoring_model"), pk=pk)
    require(perms.can_publish(request.user))
    if request.method == "POST":
        return run_and_redirect(
            request,
            lambda: services.grading_run_publish(run=run, published_by=request.user),
            success=_("Published: customers' tiers are updated and their managers notified."),
            to=run,
        )
    if run.status != RunStatus.UNDER_REVIEW:
        messages.error(request, _("Only a run under review can be published."))
        return redirect(run)
    changes = Paginator(selectors.publication_changes(run), PUBLISH_CHANGES_PER_PAGE)
    return render(
        request,
        "tiers/gradingrun_publish.html",
        {
            "run": run,
            "labels": run.scoring_model.labels,
            "distribution": selectors.publication_distribution(run),
            "problem": services.grading_run_publication_problem(run),
            "latest": services.latest_published_run(exclude=run),
            "page_obj": changes.get_page(request.GET.get("page")),
            "paginator": changes,
            "query_string": _query_string(request),
        },
    )


@login_required
@require_POST
def run_close(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(GradingRun, pk=pk)
    require(perms.can_publish(request.user))
    return run_and_redirect(
        request,
        lambda: services.grading_run_close(run=run, closed_by=request.user),
        success=_("The run is closed."),
        to=run,
    )


def _get_grade(request: HttpRequest, pk: int) -> Grade:
    return get_object_or_404(
        Grade.objects.visible_to(request.user).select_related(
            "run", "run__scoring_model", "customer", "customer__department"
        ),
        pk=pk,
    )


@login_required
def grade_override(request: HttpRequest, pk: int) -> HttpResponse:
    grade = _get_grade(request, pk)
    require(perms.can_override(request.user, grade.customer))
    form = OverrideForm(request.POST or None, initial={"tier": grade.tier})
    if request.method == "POST" and form.is_valid():
        try:
            services.grade_override(
                grade=grade,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
                overridden_by=request.user,
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Grade overridden."))
            return redirect(grade.run)
    return render(
        request,
        "tiers/grade_override.html",
        {
            "form": form,
            "grade": grade,
            "rows": selectors.breakdown_rows(grade, grade.run.scoring_model),
        },
    )


@login_required
def grade_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    grade = _get_grade(request, pk)
    require(perms.can_appeal(request.user, grade.customer))
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appeal = services.appeal_file(
                grade=grade,
                customer=grade.customer,
                filed_by=request.user,
                reason=form.cleaned_data["reason"],
                requested_tier=form.cleaned_data["requested_tier"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Appeal filed; the department head has been notified."))
            return redirect(appeal)
    existing = Appeal.objects.filter(grade=grade).first()
    return render(
        request,
        "tiers/appeal_form.html",
        {
            "form": form,
            "grade": grade,
            "existing": existing,
            "problem": None if existing else services.appeal_problem(grade),
        },
    )


# --- Appeals ---------------------------------------------------------------------------------


class AppealListView(LoginRequiredMixin, FilterView):
    filterset_class = AppealFilter
    template_name = "tiers/appeal_list.html"
    context_object_name = "appeals"
    paginate_by = 25

    def get_queryset(self):
        return (
            Appeal.objects.visible_to(self.request.user)
            .select_related("customer", "grade", "grade__run", "filed_by", "decided_by")
            .order_by("-filed_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query_string"] = _query_string(self.request)
        return context


@login_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.visible_to(request.user).select_related(
            "customer", "grade", "grade__run", "filed_by", "decided_by"
        ),
        pk=pk,
    )
    can_decide = appeal.status == AppealStatus.PENDING and perms.can_decide_appeal(
        request.user, appeal.customer
    )
    form = AppealDecisionForm(request.POST or None)
    if request.method == "POST":
        require(perms.can_decide_appeal(request.user, appeal.customer))
        if form.is_valid():
            try:
                services.appeal_decide(
                    appeal=appeal,
                    decided_by=request.user,
                    uphold=form.cleaned_data["decision"] == "uphold",
                    comment=form.cleaned_data["comment"],
                )
            except BusinessRuleError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Decision recorded."))
                return redirect(appeal)
    return render(
        request,
        "tiers/appeal_detail.html",
        {
            "appeal": appeal,
            "form": form,
            "can_decide": can_decide,
            "history": appeal.history.select_related("history_user")[:20],
        },
    )


# --- Scoring models ---------------------------------------------------------------------------


class ModelListView(LoginRequiredMixin, ListView):
    template_name = "tiers/scoringmodel_list.html"
    context_object_name = "models"
    queryset = ScoringModel.objects.prefetch_related("indicators").order_by("-version")


@login_required
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(ScoringModel, pk=pk)
    return render(
        request,
        "tiers/scoringmodel_detail.html",
        {
            "model": model,
            "indicators": model.indicators.all(),
            "problems": services.scoring_model_problems(model),
            "history": model.history.select_related("history_user")[:20],
        },
    )


# --- Customer: assessments and the Tier tab ---------------------------------------------------


@login_required
def customer_assess(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    require(perms.can_assess(request.user, customer))
    model = services.active_scoring_model()
    indicators = list(model.indicators.filter(source=IndicatorSource.ASSESSED))
    previous = selectors.latest_assessments(customer)
    form = AssessmentForm(request.POST or None, indicators=indicators, previous=previous)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessments_record(
                customer=customer, assessed_by=request.user, values=form.values()
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Assessment saved."))
            return redirect(f"{customer.get_absolute_url()}?tab=tier")
    history = customer.assessments.select_related("assessed_by").order_by("-assessed_at", "-id")[
        :100
    ]
    return render(
        request,
        "tiers/assessment_form.html",
        {"customer": customer, "form": form, "history": history, "labels": _labels(indicators)},
    )


def _labels(indicators) -> dict[str, str]:
    return {indicator.code: indicator.label for indicator in indicators}


def customer_tab(request: HttpRequest, customer) -> tuple[dict, str]:
    """The customer page's "Tier" tab: tier, score, breakdown, history, next tier."""
    grade = selectors.latest_published_grade(customer)
    context: dict = {
        "tier_grade": grade,
        "tier_changes": customer.tier_changes.select_related("changed_by", "grade__run")[:50],
        "tier_grades": _grades_by_period(request.user, customer),
        "can_assess": perms.can_assess(request.user, customer),
    }
    if grade is not None:
        model = grade.run.scoring_model
        context["tier_rows"] = selectors.breakdown_rows(grade, model)
        context["tier_next"] = selectors.next_tier(grade, model)
        context["tier_labels"] = model.labels
        appeal = Appeal.objects.filter(grade=grade).first()
        context["tier_appeal"] = appeal
        context["can_appeal"] = (
            appeal is None
            and services.appeal_problem(grade) is None
            and perms.can_appeal(request.user, customer)
        )
    return context, "tiers/partials/customer_tab.html"


def _grades_by_period(user, customer) -> list[Grade]:
    """The customer's last twelve grades, each with its own appeal link where it may be
    appealed: the button names its grade, whichever grade is the newest."""
    grades = list(
        Grade.objects.filter(customer=customer)
        .select_related("run", "appeal")
        .order_by("-run__period")[:12]
    )
    may_appeal = perms.can_appeal(user, customer)
    for grade in grades:
        try:
            grade.existing_appeal = grade.appeal
        except Appeal.DoesNotExist:
            grade.existing_appeal = None
        grade.can_appeal = (
            may_appeal and grade.existing_appeal is None and services.appeal_problem(grade) is None
        )
    return grades
