from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import permissions

from . import services
from .exports import report_response
from .forms import ReportFilterForm, default_start
from .reports import REPORTS, ReportFilters, movement_customers
from .selectors import home_context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show what needs this user today, by role (manager, head, finance/executive)."""
    return render(request, "dashboard/home.html", home_context(request.user))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the broker answer; says nothing about configuration.

    200 when both are reachable, 503 otherwise. The age of beat's last heartbeat is shown for
    monitoring but does not change the status (beat may legitimately be restarting).
    """
    database = services.database_ok()
    broker = services.broker_ok()
    body = {"database": "ok" if database else "down", "broker": "ok" if broker else "down"}
    if database:
        try:
            body["beat_age_seconds"] = services.heartbeat_age_seconds()
        except Exception:  # e.g. before the first migration
            body["beat_age_seconds"] = None
    return JsonResponse(body, status=200 if database and broker else 503)


# --- reports -------------------------------------------------------------------------------


def _may_see_reports(user) -> bool:
    return bool(permissions.role_names(user)) or permissions.is_admin(user)


def _filters(request: HttpRequest) -> tuple[ReportFilterForm, ReportFilters]:
    if not _may_see_reports(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    data = None
    if request.GET:
        # A date left out is the default one, shown in the form as the period used.
        data = request.GET.copy()
        for name, default in (("start", default_start(today)), ("end", today)):
            if not data.get(name):
                data[name] = default.isoformat()
    form = ReportFilterForm(
        data, user=request.user, initial={"start": default_start(today), "end": today}
    )
    data = form.cleaned_data if form.is_valid() else {}
    filters = ReportFilters(
        user=request.user,
        start=data.get("start") or default_start(today),
        end=data.get("end") or today,
        department_id=data["department"].pk if data.get("department") else None,
        manager_id=data["manager"].pk if data.get("manager") else None,
        today=today,
    )
    return form, filters


@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    if not _may_see_reports(request.user):
        raise PermissionDenied
    reports = [(slug, title) for slug, (_fn, title) in REPORTS.items()]
    return render(request, "dashboard/report_index.html", {"reports": reports})


def _build(request: HttpRequest, slug: str):
    if slug not in REPORTS:
        raise Http404
    form, filters = _filters(request)
    function, _title = REPORTS[slug]
    if slug == "movement":
        report = function(filters, request.GET.get("run_from"), request.GET.get("run_to"))
    else:
        report = function(filters)
    return form, filters, report


@login_required
def report_detail(request: HttpRequest, slug: str) -> HttpResponse:
    form, filters, report = _build(request, slug)
    context = {
        "form": form,
        "filters": filters,
        "report": report,
        "reports": [(s, title) for s, (_fn, title) in REPORTS.items()],
    }
    return render(request, "dashboard/report_detail.html", context)


@login_required
def report_export(request: HttpRequest, slug: str) -> HttpResponse:
    _form, filters, report = _build(request, slug)
    line = _("Period %(start)s – %(end)s") % {"start": filters.start, "end": filters.end}
    return report_response(request, report, filters_line=line)


@login_required
def movement_customer_list(request: HttpRequest) -> HttpResponse:
    """The customers of one cell of the movement matrix."""
    form, filters = _filters(request)
    from_tier, to_tier = request.GET.get("from", "-"), request.GET.get("to", "-")
    run_from, run_to, customers = movement_customers(
        filters, request.GET.get("run_from"), request.GET.get("run_to"), from_tier, to_tier
    )
    if run_from is None:
        raise Http404
    page = Paginator(
        customers.select_related("primary_manager", "department").order_by("name", "pk"), 25
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/movement_customers.html",
        {
            "page_obj": page,
            "run_from": run_from,
            "run_to": run_to,
            "from_tier": from_tier if from_tier != "-" else "",
            "to_tier": to_tier if to_tier != "-" else "",
        },
    )
