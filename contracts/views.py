from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from accounts import spreadsheets as sheets
from accounts.errors import BusinessRuleError
from accounts.models import Customer, Department, User
from accounts.pagination import CappedCountPaginator
from accounts.permissions import is_executive, is_finance, require
from accounts.views import run_and_redirect

from . import permissions, selectors, services
from .filters import ContractFilter, ReceivableFilter
from .forms import (
    CollectionForm,
    ContractForm,
    CreditOverrideForm,
    CreditRequestForm,
    DecisionForm,
    DraftPlanFormSet,
    FilingForm,
    InstalmentFormSet,
    SignForm,
    TerminateForm,
)
from .models import (
    CREDIT_REQUEST_OPEN,
    AgeingBucket,
    ApprovalStep,
    Collection,
    Contract,
    ContractStatus,
    CreditPolicy,
    CreditRequest,
    InstalmentState,
    PaymentInstalment,
)
from .services import CreditRequestDecided, StepAlreadyDecided

SCOPES = {
    "mine": gettext_lazy("My contracts"),
    "waiting": gettext_lazy("Waiting for me"),
    "department": gettext_lazy("Department"),
    "all": gettext_lazy("All contracts"),
}


def available_scopes(user) -> list[tuple[str, str]]:
    scopes = ["mine", "waiting"]
    if permissions.sees_department_list(user):
        scopes.append("department")
    if permissions.sees_all_list(user):
        scopes.append("all")
    return [(name, SCOPES[name]) for name in scopes]


def get_contract_for_user(request: HttpRequest, pk: int) -> Contract:
    """Return a contract the user may see, or 404 so that others' contracts do not leak."""
    return get_object_or_404(
        Contract.objects.visible_to(request.user).select_related(
            "customer", "department", "owner", "signed_by", "filed_by", "terminated_by"
        ),
        pk=pk,
    )


class ContractListView(LoginRequiredMixin, FilterView):
    filterset_class = ContractFilter
    template_name = "contracts/contract_list.html"
    context_object_name = "contracts"
    paginate_by = 25
    paginator_class = CappedCountPaginator
    scope = "mine"

    def get_queryset(self):
        if self.scope not in dict(available_scopes(self.request.user)):
            raise Http404
        return (
            selectors.contracts_for_scope(self.request.user, self.scope)
            .select_related("customer", "owner", "department")
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scope"] = self.scope
        context["scopes"] = available_scopes(self.request.user)
        context["scope_label"] = SCOPES[self.scope]
        context["can_draft"] = permissions.can_draft(self.request.user)
        if self.scope == "waiting":
            context["waiting_steps"] = {
                step.contract_id: step
                for step in selectors.steps_waiting_for(self.request.user).filter(
                    contract__in=[contract.pk for contract in context["contracts"]]
                )
            }
        return context


def _form_errors(form, error) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    else:
        form.add_error(None, error.message)


@login_required
def contract_create(request: HttpRequest) -> HttpResponse:
    require(permissions.can_draft(request.user))
    initial = {"customer": request.GET.get("customer")} if request.GET.get("customer") else {}
    form = ContractForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    # An optional payment plan drafted with the contract.
    plan_posted = request.method == "POST" and "plan-TOTAL_FORMS" in request.POST
    plan_formset = DraftPlanFormSet(request.POST if plan_posted else None, prefix="plan")
    plan_valid = not plan_posted or plan_formset.is_valid()
    if request.method == "POST" and form.is_valid() and plan_valid:
        data = dict(form.cleaned_data)
        customer = data.pop("customer")
        if not data.get("text_document"):
            data.pop("text_document", None)
        rows = [row for row in plan_formset.cleaned_data if row] if plan_posted else []
        try:
            contract = services.contract_create(
                customer=customer, created_by=request.user, instalments=rows or None, **data
            )
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("Contract %(number)s drafted.") % {"number": contract.number}
            )
            return redirect(contract)
    return render(
        request, "contracts/contract_form.html", {"form": form, "plan_formset": plan_formset}
    )


@login_required
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    require(permissions.can_edit(request.user, contract))
    form = ContractForm(
        request.POST or None, request.FILES or None, instance=contract, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.contract_update(
                contract=Contract.objects.get(pk=pk), updated_by=request.user, **data
            )
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form, "contract": contract})


def _display(field, value, users: dict) -> object:
    """Show a history value as people read it: labels for choices, names for users."""
    if value in (None, ""):
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation:
        return users.get(value, value)
    return value


def _history_rows(contract: Contract) -> list[dict]:
    """Return the contract's history records, newest first, each with its changed fields."""
    records = list(contract.history.select_related("history_user")[:51])
    rows, user_ids = [], set()
    for index, record in enumerate(records[:50]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                if change.field == "updated_at":
                    continue
                field = Contract._meta.get_field(change.field)
                if field.is_relation:
                    user_ids.update(v for v in (change.old, change.new) if v)
                changes.append((field, change.old, change.new))
        rows.append({"record": record, "changes": changes})
    users = {user.pk: str(user) for user in User.objects.filter(pk__in=user_ids)}
    for row in rows:
        row["changes"] = [
            {
                "field": field.verbose_name,
                "old": _display(field, old, users),
                "new": _display(field, new, users),
            }
            for field, old, new in row["changes"]
        ]
    return rows


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    user = request.user
    rounds = list(
        contract.rounds.select_related("submitted_by")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ApprovalStep.objects.select_related("decided_by", "department"),
            )
        )
        .order_by("-number")
    )
    current = next(
        (step for round_ in rounds for step in round_.steps.all() if step.status == "pending"),
        None,
    )
    if current is not None:
        current.contract = contract
    exposure = selectors.customer_exposure(contract.customer)
    context = {
        # Credit is decided here: the customer's exposure, and whether this contract (not yet
        # committed, so not yet in the balance) takes it over the limit.
        "exposure": exposure,
        "would_exceed": contract.status not in selectors.EXPOSURE_STATUSES
        and exposure.would_exceed(contract.amount),
        "contract": contract,
        "rounds": rounds,
        "current_step": current,
        "can_decide": current is not None and permissions.can_decide(user, current),
        "decision_form": DecisionForm(),
        "can_edit": permissions.can_edit(user, contract),
        "can_sign": contract.status == ContractStatus.APPROVED
        and permissions.can_mark_signed(user, contract),
        "can_file": contract.status == ContractStatus.SIGNED
        and permissions.can_file(user, contract),
        "can_terminate": contract.status in (ContractStatus.SIGNED, ContractStatus.ACTIVE)
        and permissions.can_terminate(user, contract),
        "history": _history_rows(contract),
        **receivables_context(user, contract),
    }
    return render(request, "contracts/contract_detail.html", context)


@login_required
@require_POST
def contract_submit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    require(permissions.owns(request.user, contract))
    return run_and_redirect(
        request,
        lambda: services.contract_submit(contract=contract, submitted_by=request.user),
        success=_("Submitted for approval; the first approver has been notified."),
        to=contract,
        warn=(StepAlreadyDecided,),
    )


def _decision_form(request: HttpRequest) -> DecisionForm | None:
    """Return the posted approve/reject form, or None after turning its errors into messages."""
    form = DecisionForm(request.POST)
    if form.is_valid():
        return form
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return None


@login_required
@require_POST
def step_decide(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    step = get_object_or_404(ApprovalStep.objects.select_related("contract"), pk=step_pk)
    if step.contract_id != contract.pk:
        raise Http404
    require(permissions.can_decide(request.user, step))
    form = _decision_form(request)
    if form is None:
        return redirect(contract)
    approve = form.cleaned_data["decision"] == "approve"
    return run_and_redirect(
        request,
        lambda: services.step_decide(
            step=step,
            decided_by=request.user,
            approve=approve,
            comment=form.cleaned_data["comment"],
        ),
        success=_("Approved.") if approve else _("Rejected; the contract is back with its owner."),
        to=contract,
        warn=(StepAlreadyDecided,),
    )


def _action_form(request, pk, *, allowed, form_class, title, run, success) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    require(allowed(request.user, contract))
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run(contract, form.cleaned_data)
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(contract)
    return render(
        request,
        "contracts/contract_action.html",
        {"form": form, "contract": contract, "title": title},
    )


@login_required
def contract_sign(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request,
        pk,
        allowed=permissions.can_mark_signed,
        form_class=SignForm,
        title=_("Mark signed"),
        run=lambda contract, data: services.contract_mark_signed(
            contract=contract, signed_by=request.user, **data
        ),
        success=_("Marked signed."),
    )


@login_required
def contract_file(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request,
        pk,
        allowed=permissions.can_file,
        form_class=FilingForm,
        title=_("File the contract (备案)"),
        run=lambda contract, data: services.contract_file(
            contract=contract, filed_by=request.user, **data
        ),
        success=_("Filed; the contract is in force."),
    )


@login_required
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request,
        pk,
        allowed=permissions.can_terminate,
        form_class=TerminateForm,
        title=_("Terminate the contract"),
        run=lambda contract, data: services.contract_terminate(
            contract=contract, terminated_by=request.user, reason=data["reason"]
        ),
        success=_("Contract terminated."),
    )


@login_required
def contract_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    fields = {"text": contract.text_document, "scan": contract.signed_scan}
    file = fields.get(kind)
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    return FileResponse(handle, as_attachment=True, filename=file.name.rsplit("/", 1)[-1])


def customer_tab(request: HttpRequest, customer) -> tuple[dict, str]:
    """The customer page's "Contracts" tab."""
    contracts = (
        Contract.objects.visible_to(request.user)
        .filter(customer=customer)
        .select_related("owner")
        .order_by("-created_at", "-id")[:100]
    )
    context = {
        "contracts": contracts,
        "can_draft_here": permissions.can_draft_for(request.user, customer),
    }
    return context, "contracts/partials/customer_tab_contracts.html"


# --- Receivables (回款) ----------------------------------------------------------------------

RECEIVABLE_SCOPES = {
    "mine": gettext_lazy("My receivables"),
    "department": gettext_lazy("Department"),
    "company": gettext_lazy("Company"),
}


def receivable_scopes(user) -> list[tuple[str, str]]:
    scopes = ["mine"]
    if permissions.sees_department_list(user):
        scopes.append("department")
    if permissions.sees_company_receivables(user):
        scopes.append("company")
    return [(name, RECEIVABLE_SCOPES[name]) for name in scopes]


def receivables_context(user, contract: Contract) -> dict:
    """The receivables section of the contract page."""
    instalments = list(selectors.instalments_of(contract))
    return {
        "instalments": instalments,
        "plan_total": sum((row.amount for row in instalments), Decimal("0")),
        "open_total": sum((row.open_amount for row in instalments), Decimal("0")),
        "collections": contract.collections.select_related("recorded_by", "confirmed_by")[:50],
        "can_plan": contract.status in services.PLAN_STATUSES
        and not any(row.paid_amount for row in instalments)
        and permissions.can_manage_plan(user, contract),
        "can_collect": bool(instalments)
        and contract.status in services.COLLECTION_STATUSES
        and permissions.can_record_collection(user, contract),
        "can_confirm": permissions.can_confirm_collection(user),
    }


class ReceivableListView(LoginRequiredMixin, FilterView):
    """Open instalments with their ageing, per manager (mine), department or company."""

    filterset_class = ReceivableFilter
    template_name = "contracts/receivable_list.html"
    context_object_name = "instalments"
    paginate_by = 25
    scope = "mine"

    def get_queryset(self):
        if self.scope not in dict(receivable_scopes(self.request.user)):
            raise Http404
        return selectors.receivables_for_scope(self.request.user, self.scope)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["owners"] = User.objects.filter(
            pk__in=Contract.objects.visible_to(self.request.user).values("owner")
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = self.object_list
        group = {"mine": None, "department": "contract__owner", "company": "contract__department"}
        group_by = group[self.scope]
        context.update(
            scope=self.scope,
            scopes=receivable_scopes(self.request.user),
            scope_label=RECEIVABLE_SCOPES[self.scope],
            total=selectors.ageing_summary(rows)[0],
            buckets=AgeingBucket.choices,
            export_url_name={
                "mine": "contracts:receivables_export",
                "department": "contracts:receivables_department_export",
                "company": "contracts:receivables_company_export",
            }[self.scope],
        )
        if group_by:
            groups = selectors.ageing_summary(rows, group_by=group_by)
            model = User if group_by == "contract__owner" else Department
            names = model.objects.in_bulk([row[group_by] for row in groups])
            for row in groups:
                row["name"] = names.get(row[group_by])
            context["groups"] = groups
        return context


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    require(permissions.can_manage_plan(request.user, contract))
    initial = [
        {"due_date": row.due_date, "amount": row.amount, "note": row.note}
        for row in contract.instalments.order_by("sequence")
    ] or [{"amount": contract.amount}]
    rows = request.GET.get("rows", "")
    if rows.isdigit() and len(initial) < int(rows) <= 24:
        initial += [{}] * (int(rows) - len(initial))
    formset = InstalmentFormSet(request.POST or None, initial=initial, prefix="plan")
    if request.method == "POST" and formset.is_valid():
        rows = [form.cleaned_data for form in formset if form.cleaned_data]
        try:
            services.plan_set(contract=contract, set_by=request.user, instalments=rows)
        except (ValidationError, BusinessRuleError) as error:
            formset._non_form_errors = formset.error_class(
                error.messages if isinstance(error, ValidationError) else [error.message]
            )
        else:
            messages.success(request, _("Payment plan saved."))
            return redirect(contract.get_absolute_url() + "#receivables")
    return render(request, "contracts/plan_form.html", {"formset": formset, "contract": contract})


@login_required
def collection_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request,
        pk,
        allowed=permissions.can_record_collection,
        form_class=CollectionForm,
        title=_("Record a payment received"),
        run=lambda contract, data: services.collection_record(
            contract=contract, recorded_by=request.user, **data
        ),
        success=_("Payment recorded; finance has been asked to confirm it."),
    )


@login_required
def unconfirmed_collections(request: HttpRequest) -> HttpResponse:
    require(permissions.can_confirm_collection(request.user))
    collections = (
        Collection.objects.visible_to(request.user)
        .filter(confirmed_at__isnull=True)
        .select_related("contract", "contract__customer", "recorded_by")
        .order_by("received_on", "pk")
    )
    page = Paginator(collections, 25).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    exposures = selectors.customer_exposures({row.contract.customer for row in rows})
    for row in rows:
        row.exposure = exposures[row.contract.customer_id]
    return render(
        request,
        "contracts/collection_list.html",
        {"page_obj": page, "collections": rows, "paginator": page.paginator},
    )


@login_required
@require_POST
def collection_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_object_or_404(
        Collection.objects.visible_to(request.user).select_related("contract"), pk=pk
    )
    require(permissions.can_confirm_collection(request.user))
    back = request.POST.get("next", "")
    # Only a page of this site: a forged "next" must not send finance elsewhere.
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = collection.contract.get_absolute_url()
    return run_and_redirect(
        request,
        lambda: services.collection_confirm(collection=collection, confirmed_by=request.user),
        success=_("Collection confirmed."),
        to=back,
        warn=(BusinessRuleError,),
    )


@login_required
def credit_override_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    require(permissions.can_confirm_collection(request.user))
    form = CreditOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.credit_override_grant(
                customer=customer, granted_by=request.user, **form.cleaned_data
            )
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Override granted for one transaction."))
            return redirect(customer.get_absolute_url() + "?tab=receivables")
    return render(
        request,
        "contracts/credit_override_form.html",
        {"form": form, "customer": customer},
    )


def customer_receivables_tab(request: HttpRequest, customer) -> tuple[dict, str]:
    """The customer page's "Receivables" tab."""
    rows = (
        PaymentInstalment.objects.visible_to(request.user)
        .filter(contract__customer=customer, contract__status__in=selectors.RECEIVABLE_STATUSES)
        .with_facts()
        .select_related("contract")
        .order_by("due_date", "pk")
    )
    window_end = timezone.localdate()
    exposure = selectors.customer_exposure(customer)
    context = {
        "instalments": rows[:100],
        "total": selectors.ageing_summary(rows.exclude(state=InstalmentState.PAID))[0],
        "buckets": AgeingBucket.choices,
        "exposure": exposure,
        "open_receivables": exposure.balance,
        "can_propose_credit": permissions.can_propose_credit(request.user, customer),
        "credit_requests": customer.credit_requests.select_related("proposed_by")[:5],
        "payment_record": selectors.payment_record_from_receivables(
            customer, start=window_end.replace(year=window_end.year - 1), end=window_end
        ),
        "overrides": customer.credit_overrides.filter(used_at__isnull=True)[:10],
        "can_override": permissions.can_confirm_collection(request.user),
    }
    return context, "contracts/partials/customer_tab_receivables.html"


@login_required
def receivables_export(request: HttpRequest, scope: str) -> HttpResponse:
    """The receivables list, with the same filters, as an Excel file (streamed)."""
    if scope not in dict(receivable_scopes(request.user)):
        raise Http404
    rows = selectors.receivables_for_scope(request.user, scope)
    filterset = ReceivableFilter(
        request.GET,
        queryset=rows,
        owners=User.objects.filter(
            pk__in=Contract.objects.visible_to(request.user).values("owner")
        ),
    )
    queryset = filterset.qs if filterset.is_valid() else rows.none()
    column = sheets.Column
    columns = [
        column(_("Contract"), "contract.number", width=16),
        column(_("Instalment"), "sequence", sheets.INTEGER),
        column(_("Customer"), "contract.customer.name", width=30),
        column(_("Due date"), "due_date", sheets.DATE),
        column(_("Amount"), "amount", sheets.MONEY),
        column(_("Paid"), "paid_amount", sheets.MONEY),
        column(pgettext("amount", "Open"), "open_amount", sheets.MONEY),
        column(_("State"), "state", choices=InstalmentState.choices),
        column(_("Days overdue"), "bucket", choices=AgeingBucket.choices),
        column(_("Owner"), "contract.owner.username"),
        column(_("Department"), "contract.department.name"),
    ]
    return sheets.export_response(
        request,
        what=f"receivables-{scope}",
        columns=columns,
        queryset=queryset,
        sheet_title=_("Receivables"),
    )


# --- Credit requests (信用申请) ----------------------------------------------------------------

CREDIT_REQUEST_LISTS = {
    "waiting": gettext_lazy("Waiting for me"),
    "open": pgettext_lazy("credit requests", "Open"),
    "decided": gettext_lazy("Decided"),
}


def get_credit_request_for_user(request: HttpRequest, pk: int) -> CreditRequest:
    """Return a credit request of a customer the user may see, or 404."""
    return get_object_or_404(
        CreditRequest.objects.visible_to(request.user).select_related(
            "customer", "proposed_by", "finance_by", "executive_by"
        ),
        pk=pk,
    )


@login_required
def credit_request_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    require(permissions.can_propose_credit(request.user, customer))
    form = CreditRequestForm(
        request.POST or None,
        initial={"credit_terms": customer.credit_terms, "credit_limit": customer.credit_limit},
    )
    if request.method == "POST" and form.is_valid():
        try:
            credit_request = services.credit_request_submit(
                customer=customer, proposed_by=request.user, **form.cleaned_data
            )
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Credit request submitted; finance has been notified."))
            return redirect(credit_request)
    open_request = customer.credit_requests.filter(status__in=CREDIT_REQUEST_OPEN).first()
    return render(
        request,
        "contracts/creditrequest_form.html",
        {
            "form": form,
            "customer": customer,
            "exposure": selectors.customer_exposure(customer),
            "open_request": open_request,
            "executive_above": CreditPolicy.current().executive_above,
        },
    )


@login_required
def credit_request_list(request: HttpRequest) -> HttpResponse:
    user = request.user  # everyone sees the requests of the customers they see
    decider = is_finance(user) or is_executive(user)
    which = request.GET.get("list") or ("waiting" if decider else "open")
    if which not in CREDIT_REQUEST_LISTS:
        raise Http404
    if which == "waiting":
        rows = selectors.credit_requests_waiting_for(user)
    else:
        visible = CreditRequest.objects.visible_to(user).select_related("customer", "proposed_by")
        if which == "open":
            rows = visible.filter(status__in=CREDIT_REQUEST_OPEN).order_by("proposed_at", "pk")
        else:
            rows = visible.exclude(status__in=CREDIT_REQUEST_OPEN).order_by("-proposed_at", "-pk")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    credit_requests = list(page.object_list)
    exposures = selectors.customer_exposures({row.customer for row in credit_requests})
    for row in credit_requests:
        row.exposure = exposures[row.customer_id]
    return render(
        request,
        "contracts/creditrequest_list.html",
        {
            "page_obj": page,
            "paginator": page.paginator,
            "credit_requests": credit_requests,
            # Only finance and executives decide: nobody else gets a list that is always empty.
            "lists": [
                (name, label)
                for name, label in CREDIT_REQUEST_LISTS.items()
                if decider or name != "waiting"
            ],
            "current_list": which,
        },
    )


@login_required
def credit_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    credit_request = get_credit_request_for_user(request, pk)
    exposure = selectors.customer_exposure(credit_request.customer)
    return render(
        request,
        "contracts/creditrequest_detail.html",
        {
            "credit_request": credit_request,
            "customer": credit_request.customer,
            "exposure": exposure,
            "can_decide": permissions.can_decide_credit(request.user, credit_request),
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def credit_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    credit_request = get_credit_request_for_user(request, pk)
    form = _decision_form(request)
    if form is None:
        return redirect(credit_request)
    approve = form.cleaned_data["decision"] == "approve"
    return run_and_redirect(
        request,
        lambda: services.credit_request_decide(
            credit_request=credit_request,
            decided_by=request.user,
            approve=approve,
            comment=form.cleaned_data["comment"],
        ),
        success=_("Approved.") if approve else _("Rejected."),
        to=credit_request,
        warn=(CreditRequestDecided,),
    )
