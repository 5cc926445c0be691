from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.filters import BootstrapFilterSet
from accounts.models import Department, Tier, User
from accounts.widgets import PlainSelect

from .models import AgeingBucket, ContractStatus, InstalmentState


class ContractFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ContractStatus.choices, widget=PlainSelect
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"), field_name="amount", lookup_expr="gte"
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to"), field_name="amount", lookup_expr="lte"
    )
    tier = django_filters.ChoiceFilter(
        label=_("Customer tier"),
        field_name="customer__tier",
        choices=Tier.choices,
        widget=PlainSelect,
    )
    expiring_within = django_filters.NumberFilter(
        label=_("Expiring within (days)"),
        method="filter_expiring",
        widget=forms.NumberInput(attrs={"min": 0, "max": 3650}),
    )

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(title__icontains=value)
            | Q(customer__name__icontains=value)
        )

    def filter_expiring(self, queryset, name, value):
        if value is None or value < 0:
            return queryset
        today = timezone.localdate()
        until = today + datetime.timedelta(days=min(int(value), 3650))
        return queryset.filter(
            status=ContractStatus.ACTIVE, end_date__gte=today, end_date__lte=until
        )


class ReceivableFilter(django_filters.FilterSet):
    """Filters of the receivables lists (open instalments of contracts in force)."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=[
            (InstalmentState.OVERDUE, _("Overdue")),
            ("due", _("Not yet overdue")),
        ],
        method="filter_state",
    )
    bucket = django_filters.ChoiceFilter(
        label=_("Days overdue"), choices=AgeingBucket.choices, field_name="bucket"
    )
    due_before = django_filters.DateFilter(
        label=_("Due on or before"),
        field_name="due_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        field_name="contract__owner",
        queryset=User.objects.none(),
        widget=PlainSelect,
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), field_name="contract__department", queryset=Department.objects.all()
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = owners if owners is not None else User.objects.none()

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(contract__number__icontains=value) | Q(contract__customer__name__icontains=value)
        )

    def filter_state(self, queryset, name, value):
        if value == InstalmentState.OVERDUE:
            return queryset.filter(state=InstalmentState.OVERDUE)
        if value == "due":
            return queryset.exclude(state=InstalmentState.OVERDUE)
        return queryset
