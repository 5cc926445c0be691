import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.filters import BootstrapFilterSet
from accounts.models import Tier
from accounts.widgets import PlainSelect

from .models import Severity, Status


class ComplaintFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Reference or customer name")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, widget=PlainSelect
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=Severity.choices, widget=PlainSelect
    )
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), field_name="customer__tier", choices=Tier.choices, widget=PlainSelect
    )
    breached = django_filters.BooleanFilter(label=_("Deadline missed"), method="filter_breached")
    follow_up_due = django_filters.BooleanFilter(
        label=_("Follow-up due"), method="filter_follow_up_due"
    )
    customer = django_filters.NumberFilter(
        label=_("Customer"),
        field_name="customer_id",
        widget=django_filters.widgets.forms.HiddenInput,
    )

    def search(self, queryset, name, value):
        return queryset.filter(Q(reference__icontains=value) | Q(customer__name__icontains=value))

    def filter_breached(self, queryset, name, value):
        breached = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
        return queryset.filter(breached) if value else queryset.exclude(breached)

    def filter_follow_up_due(self, queryset, name, value):
        from django.utils import timezone

        due = queryset.follow_up_due(timezone.localdate())
        return due if value else queryset.exclude(pk__in=due.values("pk"))
