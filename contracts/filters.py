from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier

from .models import ContractStatus


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContractStatus.choices)
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"), field_name="amount", lookup_expr="gte"
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to"), field_name="amount", lookup_expr="lte"
    )
    tier = django_filters.ChoiceFilter(
        label=_("Customer tier"), field_name="customer__tier", choices=Tier.choices
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
