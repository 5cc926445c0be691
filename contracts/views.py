from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from accounts.errors import BusinessRuleError
from accounts.models import User
from accounts.permissions import require

from . import permissions, selectors, services
from .filters import ContractFilter
from .forms import ContractForm, DecisionForm, FilingForm, SignForm, TerminateForm
from .models import ApprovalStep, Contract, ContractStatus
from .services import StepAlreadyDecided

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
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        customer = data.pop("customer")
        if not data.get("text_document"):
            data.pop("text_document", None)
        try:
            contract = services.contract_create(customer=customer, created_by=request.user, **data)
        except (ValidationError, BusinessRuleError) as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("Contract %(number)s drafted.") % {"number": contract.number}
            )
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form})


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
    context = {
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
    }
    return render(request, "contracts/contract_detail.html", context)


def _run(request, contract, action, success: str) -> HttpResponse:
    try:
        action()
    except StepAlreadyDecided as error:
        messages.warning(request, error.message)
    except BusinessRuleError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect(contract)


@login_required
@require_POST
def contract_submit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    require(permissions.owns(request.user, contract))
    return _run(
        request,
        contract,
        lambda: services.contract_submit(contract=contract, submitted_by=request.user),
        _("Submitted for approval; the first approver has been notified."),
    )


@login_required
@require_POST
def step_decide(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk)
    step = get_object_or_404(ApprovalStep.objects.select_related("contract"), pk=step_pk)
    if step.contract_id != contract.pk:
        raise Http404
    require(permissions.can_decide(request.user, step))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(contract)
    approve = form.cleaned_data["decision"] == "approve"
    return _run(
        request,
        contract,
        lambda: services.step_decide(
            step=step,
            decided_by=request.user,
            approve=approve,
            comment=form.cleaned_data["comment"],
        ),
        _("Approved.") if approve else _("Rejected; the contract is back with its owner."),
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
