"""Excel exports of the accounts lists: customers, contacts, transactions, as filtered."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from .filters import CustomerFilter
from .models import (
    Contact,
    CreditTerms,
    Customer,
    CustomerStatus,
    CustomerType,
    DecisionRole,
    Industry,
    SourceChannel,
    Transaction,
)
from .spreadsheets import BOOLEAN, DATE, DECIMAL, MONEY, Column, export_response

CUSTOMER_COLUMNS = [
    Column(_("Name"), "name", width=36),
    Column(_("Short name"), "short_name", width=14),
    Column(_("Credit code"), "credit_code", width=22),
    Column(_("Customer type"), "customer_type", choices=CustomerType.choices, width=16),
    Column(_("Industry"), "industry", choices=Industry.choices, width=16),
    Column(_("Province"), "province", width=12),
    Column(_("City"), "city", width=10),
    Column(_("Address"), "address", width=30),
    Column(_("Source channel"), "source_channel", choices=SourceChannel.choices, width=14),
    Column(_("Status"), "status", choices=CustomerStatus.choices, width=14),
    Column(_("Department"), "department.name", width=16),
    Column(_("Primary manager"), "primary_manager.username", width=14),
    Column(_("Assistant manager"), "assistant_manager.username", width=14),
    Column(_("Tier"), "tier", width=6),
    Column(_("Score"), "score", DECIMAL, width=8),
    Column(_("Credit terms"), "credit_terms", choices=CreditTerms.choices, width=14),
    Column(_("Credit limit"), "credit_limit", MONEY),
    Column(_("Notes"), "notes", width=30),
]

CONTACT_COLUMNS = [
    Column(_("Customer"), "customer.name", width=36),
    Column(_("Customer credit code"), "customer.credit_code", width=22),
    Column(_("Contact name"), "name", width=12),
    Column(_("Title"), "title", width=14),
    Column(_("Contact department"), "department", width=12),
    Column(_("Role in the decision"), "decision_role", choices=DecisionRole.choices, width=14),
    Column(_("Phone"), "phone", width=15),
    Column(_("E-mail"), "email", width=26),
    Column(_("WeChat"), "wechat", width=14),
    Column(_("Birthday"), "birthday", DATE),
    Column(_("Primary contact"), "is_primary", BOOLEAN, width=10),
]

TRANSACTION_COLUMNS = [
    Column(_("Customer"), "customer.name", width=36),
    Column(_("Customer credit code"), "customer.credit_code", width=22),
    Column(_("Date"), "date", DATE),
    Column(_("Amount"), "amount", MONEY),
    Column(_("Profit"), "profit", MONEY),
    Column(_("Payment due date"), "due_date", DATE),
    Column(_("Paid on"), "paid_date", DATE),
    Column(_("Reference"), "reference", width=18),
]


def filtered_customers(request: HttpRequest):
    """Return exactly the customer list the user sees with these filters (unpaginated)."""
    queryset = Customer.objects.visible_to(request.user).order_by("-created_at", "-id")
    filterset = CustomerFilter(request.GET or None, queryset=queryset, user=request.user)
    if filterset.is_bound and not filterset.is_valid():
        return queryset.none()
    return filterset.qs


def _date_param(request: HttpRequest, name: str):
    try:
        return parse_date(request.GET.get(name, "") or "")
    except ValueError:
        return None


@login_required
def customer_export(request: HttpRequest) -> HttpResponse:
    customers = filtered_customers(request).select_related(
        "department", "primary_manager", "assistant_manager"
    )
    return export_response(
        request,
        what="customers",
        columns=CUSTOMER_COLUMNS,
        queryset=customers,
        sheet_title=_("Customers"),
    )


@login_required
def contact_export(request: HttpRequest) -> HttpResponse:
    customer_ids = filtered_customers(request).values("pk")
    contacts = (
        Contact.objects.filter(customer__in=customer_ids)
        .select_related("customer")
        .order_by("customer_id", "-is_primary", "name", "id")
    )
    return export_response(
        request,
        what="contacts",
        columns=CONTACT_COLUMNS,
        queryset=contacts,
        sheet_title=_("Contacts"),
    )


@login_required
def transaction_export(request: HttpRequest) -> HttpResponse:
    customer_ids = filtered_customers(request).values("pk")
    transactions = Transaction.objects.filter(customer__in=customer_ids).select_related("customer")
    since = _date_param(request, "date_from")
    until = _date_param(request, "date_to")
    if since:
        transactions = transactions.filter(date__gte=since)
    if until:
        transactions = transactions.filter(date__lte=until)
    return export_response(
        request,
        what="transactions",
        columns=TRANSACTION_COLUMNS,
        queryset=transactions.order_by("-date", "-id"),
        sheet_title=_("Transactions"),
    )
