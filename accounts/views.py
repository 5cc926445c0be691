from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from . import permissions, services
from .errors import BusinessRuleError
from .filters import CustomerFilter
from .forms import (
    AdmissionDecisionForm,
    AssignmentForm,
    ContactForm,
    CustomerForm,
    DocumentForm,
    HandoverForm,
    ReasonForm,
    TransactionForm,
)
from .models import (
    REQUIRED_DOCUMENTS,
    AdmissionDecision,
    AdmissionRequest,
    AssignmentChange,
    Contact,
    Customer,
    CustomerStatus,
    Handover,
    ManagerRole,
    PoolPolicy,
    QualificationDocument,
)
from .pagination import CappedCountPaginator
from .selectors import duplicate_outside_scope

PAGE_SIZES = (25, 50, 100)
# How long after a pool customer was taken a claim of it is answered "another manager has just
# claimed it" rather than "not found" (the pool page of the late claimer was that old).
CLAIM_RACE_WINDOW = timedelta(minutes=30)
# Tabs of the customer page: name, label, and for tabs owned by other apps a loader
# "module.function" returning the tab's context and the template it renders.
CUSTOMER_TABS = [
    ("profile", gettext_lazy("Profile"), None),
    ("contacts", gettext_lazy("Contacts"), None),
    ("transactions", gettext_lazy("Transactions"), None),
    ("documents", gettext_lazy("Documents"), None),
    ("managers", gettext_lazy("Managers"), None),
    ("contracts", gettext_lazy("Contracts"), "contracts.views.customer_tab"),
    ("visits", gettext_lazy("Visits"), "visits.views.customer_tab"),
    (
        "receivables",
        gettext_lazy("Receivables"),
        "contracts.views.customer_receivables_tab",
    ),
    ("complaints", gettext_lazy("Complaints"), "complaints.views.customer_tab"),
    ("history", gettext_lazy("History"), None),
    ("tier", gettext_lazy("Tier"), "tiers.views.customer_tab"),
]


def posted(request: HttpRequest):
    """Return the POST data of a submitted form (even an empty one), or None for a GET."""
    return request.POST if request.method == "POST" else None


def get_customer_for_user(request: HttpRequest, pk: int) -> Customer:
    """Return a customer the user may see, or 404 so that others' customers do not leak."""
    return get_object_or_404(
        Customer.objects.visible_to(request.user).select_related(
            "department",
            "department__head",
            "primary_manager",
            "assistant_manager",
            "chief_manager",
        ),
        pk=pk,
    )


def run_and_redirect(
    request: HttpRequest,
    action: Callable[[], object],
    *,
    success: str,
    to,
    warn: tuple[type[BusinessRuleError], ...] = (),
) -> HttpResponse:
    """Run a one-step action (a button), then redirect to `to` (a model, URL or URL name).

    The service refusing it (BusinessRuleError, ValidationError) becomes an error message and
    changes nothing; an error of `warn` (someone else decided first) becomes a warning;
    otherwise the success message is shown.
    """
    try:
        action()
    except warn as error:
        messages.warning(request, error.message)
    except BusinessRuleError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect(to)


def _form_errors_from(form, error: ValidationError | BusinessRuleError) -> None:
    if isinstance(error, ValidationError):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.message)


class CustomerListView(LoginRequiredMixin, FilterView):
    filterset_class = CustomerFilter
    template_name = "accounts/customer_list.html"
    context_object_name = "customers"
    paginator_class = CappedCountPaginator

    def get_paginate_by(self, queryset) -> int:
        try:
            size = int(self.request.GET.get("per_page", PAGE_SIZES[0]))
        except ValueError:
            size = PAGE_SIZES[0]
        return size if size in PAGE_SIZES else PAGE_SIZES[0]

    def get_queryset(self):
        return (
            Customer.objects.visible_to(self.request.user)
            .select_related("department", "primary_manager", "assistant_manager")
            .order_by("-created_at", "-id")
        )

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["user"] = self.request.user
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        context["page_sizes"] = PAGE_SIZES
        context["can_create"] = permissions.can_create_customer(self.request.user)
        # The rule of the handover page itself, from the cached roles (Django's perms cost
        # two queries a page).
        context["can_handover"] = permissions.can_start_handover(self.request.user)
        return context


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    tabs = {name: loader for name, _label, loader in CUSTOMER_TABS}
    tab = request.GET.get("tab", "profile")
    if tab not in tabs:
        tab = "profile"
    user = request.user
    context = {
        "customer": customer,
        "tab": tab,
        "tabs": [(name, label) for name, label, _loader in CUSTOMER_TABS],
        "tab_template": f"accounts/partials/customer_tab_{tab}.html",
        "can_edit": permissions.can_edit_customer(user, customer),
        "can_assign": permissions.can_assign_managers(user, customer),
        "can_terminate": permissions.can_terminate(user, customer),
        "can_decide_admission": permissions.can_decide_admission(user, customer),
        "can_verify": permissions.can_verify_documents(user, customer),
        "can_claim": permissions.can_claim(user, customer),
        "can_release": permissions.can_release(user, customer),
        "can_lock_pool": permissions.can_lock_pool(user, customer),
        "pending_admission": customer.admission_requests.filter(
            decision=AdmissionDecision.PENDING
        ).first()
        if customer.status == CustomerStatus.PENDING_ADMISSION
        else None,
        "totals": customer.transactions.aggregate(
            count=Count("pk"), amount=Sum("amount"), profit=Sum("profit")
        ),
        "contact_count": customer.contacts.count(),
    }
    if tab == "contacts":
        context["contacts"] = customer.contacts.all()
    elif tab == "transactions":
        context["transactions_page"] = Paginator(customer.transactions.all(), 50).get_page(
            request.GET.get("page")
        )
    elif tab == "documents":
        documents = list(customer.documents.select_related("verified_by", "uploaded_by"))
        context["documents"] = documents
        context["missing_documents"] = services.missing_documents(customer)
        context["required_documents"] = REQUIRED_DOCUMENTS[customer.customer_type]
    elif tab == "managers":
        context["assignment_changes"] = customer.assignment_changes.select_related(
            "old_user", "new_user", "changed_by", "handover"
        )
        context["admission_requests"] = customer.admission_requests.select_related(
            "submitted_by", "decided_by"
        )
    elif tab == "history":
        context["history"] = _history_with_changes(customer)
    elif tabs[tab] is not None:
        extra, context["tab_template"] = import_string(tabs[tab])(request, customer)
        context.update(extra)
    return render(request, "accounts/customer_detail.html", context)


def _history_with_changes(customer: Customer) -> list[dict]:
    """Return the customer's history records, newest first, each with its changed fields."""
    records = list(customer.history.select_related("history_user")[:51])
    rows = []
    for index, record in enumerate(records[:50]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = Customer._meta.get_field(change.field)
                changes.append({"field": field.verbose_name, "old": change.old, "new": change.new})
        rows.append({"record": record, "changes": changes})
    return rows


def _form_context(request: HttpRequest, form: CustomerForm, **extra) -> dict:
    """Show possible duplicates; those outside the user's scope only by their department."""
    found = [other.pk for other in form.duplicates]
    visible = set(
        Customer.objects.visible_to(request.user).filter(pk__in=found).values_list("pk", flat=True)
    )
    duplicates = [
        (other, True, "")
        if other.pk in visible
        else (other, False, duplicate_outside_scope(other.department))
        for other in form.duplicates
    ]
    return {"form": form, "duplicates": duplicates, **extra}


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_create_customer(request.user))
    form = CustomerForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_duplicate"}
        try:
            customer = services.customer_create(created_by=request.user, **data)
        except (ValidationError, BusinessRuleError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect(customer)
    return render(request, "accounts/customer_form.html", _form_context(request, form))


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_edit_customer(request.user, customer))
    form = CustomerForm(posted(request), instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_duplicate"}
        try:
            services.customer_update(
                customer=Customer.objects.get(pk=pk), updated_by=request.user, **data
            )
        except (ValidationError, BusinessRuleError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    return render(
        request,
        "accounts/customer_form.html",
        _form_context(request, form, customer=customer),
    )


def _child_form_view(request, pk, *, form_class, service, title, tab, instance=None, **extra):
    """Add (or edit) a row that hangs off a customer: a contact, a transaction, a document."""
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_edit_customer(request.user, customer))
    form = form_class(
        posted(request), request.FILES if request.method == "POST" else None, instance=instance
    )
    if request.method == "POST" and form.is_valid():
        try:
            service(customer=customer, data=form.cleaned_data, user=request.user, **extra)
        except (ValidationError, BusinessRuleError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{customer.get_absolute_url()}?tab={tab}")
    return render(
        request,
        "accounts/customer_child_form.html",
        {"form": form, "customer": customer, "title": title, "tab": tab},
    )


@login_required
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_form_view(
        request,
        pk,
        form_class=ContactForm,
        title=_("Add a contact"),
        tab="contacts",
        service=lambda customer, data, user: services.contact_add(
            customer=customer, added_by=user, **data
        ),
    )


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    contact = get_object_or_404(
        Contact.objects.visible_to(request.user), pk=contact_pk, customer_id=pk
    )
    return _child_form_view(
        request,
        pk,
        form_class=ContactForm,
        title=_("Edit contact"),
        tab="contacts",
        instance=contact,
        service=lambda customer, data, user: services.contact_update(
            contact=Contact.objects.get(pk=contact.pk), updated_by=user, **data
        ),
    )


@login_required
def transaction_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_form_view(
        request,
        pk,
        form_class=TransactionForm,
        title=_("Record a transaction"),
        tab="transactions",
        service=lambda customer, data, user: services.transaction_add(
            customer=customer, added_by=user, **data
        ),
    )


@login_required
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_form_view(
        request,
        pk,
        form_class=DocumentForm,
        title=_("Upload a qualification document"),
        tab="documents",
        service=lambda customer, data, user: services.document_add(
            customer=customer, uploaded_by=user, **data
        ),
    )


@login_required
def document_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    document = get_object_or_404(
        QualificationDocument.objects.visible_to(request.user), pk=document_pk, customer_id=pk
    )
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    return FileResponse(handle, as_attachment=True, filename=document.file.name.rsplit("/", 1)[-1])


@login_required
@require_POST
def document_verify(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    document = get_object_or_404(customer.documents, pk=document_pk)
    permissions.require(permissions.can_verify_documents(request.user, customer))
    response = run_and_redirect(
        request,
        lambda: services.document_verify(document=document, verified_by=request.user),
        success=_("Document verified."),
        to=customer,
    )
    if request.POST.get("back") == "admission":
        # Verified from the admission page: the head goes on deciding there.
        return redirect("accounts:admission_decide", pk=customer.pk)
    return response


@login_required
@require_POST
def admission_submit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_submit_admission(request.user, customer))
    return run_and_redirect(
        request,
        lambda: services.admission_submit(customer=customer, submitted_by=request.user),
        success=_("Submitted for admission; the department head has been notified."),
        to=customer,
    )


@login_required
def admission_decide(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_decide_admission(request.user, customer))
    admission = AdmissionRequest.objects.filter(
        customer=customer, decision=AdmissionDecision.PENDING
    ).first()
    if admission is None:
        # Decided (by another head, a moment ago) or never submitted: say so on its page.
        if customer.admission_requests.exists():
            messages.warning(request, _("This admission request has already been decided."))
        else:
            messages.warning(request, _("This customer has no admission request to decide."))
        return redirect(customer)
    form = AdmissionDecisionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.admission_decide(
                admission=admission,
                decided_by=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect(customer)
    return render(
        request,
        "accounts/admission_decide.html",
        {
            "form": form,
            "customer": customer,
            "admission": admission,
            "missing_documents": services.missing_documents(customer),
            "unverified_documents": services.unverified_documents(customer),
            "documents": customer.documents.filter(is_current=True).select_related("verified_by"),
            "can_verify": permissions.can_verify_documents(request.user, customer),
        },
    )


@login_required
def customer_assign(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_assign_managers(request.user, customer))
    form = AssignmentForm(
        posted(request),
        customer=customer,
        actor=request.user,
        initial={"role": request.GET.get("role", "primary_manager")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_assign_manager(
                customer=customer,
                role=form.cleaned_data["role"],
                user=form.cleaned_data["user"],
                assigned_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Manager changed."))
            return redirect(f"{customer.get_absolute_url()}?tab=managers")
    return render(request, "accounts/customer_assign.html", {"form": form, "customer": customer})


@login_required
def customer_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_terminate(request.user, customer))
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_terminate(
                customer=customer,
                terminated_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Customer terminated. Its history is kept."))
            return redirect(customer)
    return render(request, "accounts/customer_terminate.html", {"form": form, "customer": customer})


@login_required
@require_POST
def customer_dormant(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_edit_customer(request.user, customer))
    dormant = request.POST.get("dormant") == "1"
    return run_and_redirect(
        request,
        lambda: services.customer_set_dormant(
            customer=customer, changed_by=request.user, dormant=dormant
        ),
        success=_("Status changed."),
        to=customer,
    )


@login_required
def handover_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    permissions.require(permissions.can_start_handover(user))
    form = HandoverForm(posted(request), actor=user)
    if request.method == "POST" and form.is_valid():
        try:
            handover = services.manager_handover(
                from_user=form.cleaned_data["from_user"],
                to_user=form.cleaned_data["to_user"],
                performed_by=user,
                reason=form.cleaned_data["reason"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Handover complete."))
            return redirect(handover)
    handovers = Handover.objects.select_related("from_user", "to_user", "performed_by")
    if not permissions.is_admin(user):
        handovers = handovers.filter(
            Q(from_user__department__in=permissions.headed_department_ids(user))
            | Q(performed_by=user)
        )
    return render(
        request, "accounts/handover_form.html", {"form": form, "handovers": handovers[:20]}
    )


@login_required
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    handovers = Handover.objects.select_related("from_user", "to_user", "performed_by")
    if not (permissions.is_admin(user) or permissions.sees_everything(user)):
        handovers = handovers.filter(
            Q(from_user__department__in=permissions.headed_department_ids(user))
            | Q(performed_by=user)
            | Q(to_user=user)
            | Q(from_user=user)
        )
    handover = get_object_or_404(handovers, pk=pk)
    changes = handover.changes.select_related("customer", "customer__department").order_by(
        "customer__name", "role"
    )
    return render(
        request, "accounts/handover_detail.html", {"handover": handover, "changes": changes}
    )


class PoolListView(CustomerListView):
    """The pool (公海): customers of the user's scope that belong to no manager."""

    template_name = "accounts/pool_list.html"

    def get_queryset(self):
        return super().get_queryset().in_pool()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["claimable"] = {
            customer.pk
            for customer in context["customers"]
            if permissions.can_claim(user, customer)
        }
        context["can_assign_ids"] = {
            customer.pk
            for customer in context["customers"]
            if permissions.can_assign_managers(user, customer)
        }
        context["policy"] = PoolPolicy.current()
        return context


@login_required
@require_POST
def pool_claim(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = Customer.objects.visible_to(user).filter(pk=pk).first()
    if customer is None:
        # A customer of the manager's own department pool that someone else took from the
        # pool a moment ago is no longer visible to them: tell them so (not who took it)
        # instead of a 404. Any other customer out of sight stays a 404.
        just_taken = (
            user.department_id is not None
            and (permissions.is_account_manager(user) or permissions.is_department_head(user))
            and AssignmentChange.objects.filter(
                customer_id=pk,
                customer__department_id=user.department_id,
                role=ManagerRole.PRIMARY,
                old_user__isnull=True,
                new_user__isnull=False,
                changed_at__gte=timezone.now() - CLAIM_RACE_WINDOW,
            ).exists()
        )
        if not just_taken:
            raise Http404
        messages.warning(request, _("Another manager has just claimed this customer."))
        return redirect("accounts:pool")
    try:
        services.pool_claim(customer=customer, user=user)
    except BusinessRuleError as error:
        messages.warning(request, error.message)
        return redirect("accounts:pool")
    messages.success(request, _("%(name)s is now yours.") % {"name": customer.name})
    return redirect(customer)


@login_required
def pool_release(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    if customer.primary_manager_id is None and not customer.is_terminated:
        # Released by someone else a moment ago (the head, or the manager in another tab).
        messages.warning(request, _("This customer is already in the pool."))
        return redirect("accounts:pool")
    permissions.require(permissions.can_release(request.user, customer))
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.pool_release(
                customer=customer, released_by=request.user, reason=form.cleaned_data["reason"]
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The customer was released to the pool."))
            return redirect("accounts:pool")
    return render(
        request,
        "accounts/customer_reason_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Release to the pool"),
            "explanation": _(
                "The customer will belong to no manager; anyone in the department may claim it. "
                "Its history stays."
            ),
        },
    )


@login_required
def pool_lock(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request, pk)
    permissions.require(permissions.can_lock_pool(request.user, customer))
    if customer.pool_locked:
        if request.method == "POST":
            services.customer_pool_lock(customer=customer, locked_by=request.user, locked=False)
            messages.success(request, _("The lock was lifted."))
        return redirect(customer)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_pool_lock(
                customer=customer,
                locked_by=request.user,
                locked=True,
                reason=form.cleaned_data["reason"],
            )
        except BusinessRuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The customer will not return to the pool automatically."))
            return redirect(customer)
    return render(
        request,
        "accounts/customer_reason_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Lock against return to the pool"),
            "explanation": _(
                "A locked customer stays with its manager even without contact or transactions."
            ),
        },
    )
