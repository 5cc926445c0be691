import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier

from .models import Severity, Status


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Reference or customer name")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), field_name="customer__tier", choices=Tier.choices
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
