import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier

from .models import CareStatus, CareTask, PlannedVisit


class PlannedVisitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Customer"), field_name="customer__name", lookup_expr="icontains"
    )
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), field_name="customer__tier", choices=Tier.choices
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"),
        method="filter_overdue",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = PlannedVisit
        fields = ["q", "tier", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(due_date__lt=timezone.localdate())
        return queryset


class CareTaskFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CareStatus.choices, empty_label=_("All")
    )
    q = django_filters.CharFilter(
        label=_("Customer"), field_name="customer__name", lookup_expr="icontains"
    )

    class Meta:
        model = CareTask
        fields = ["status", "q"]
