import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Tier

from .models import Appeal, AppealStatus, Grade, Movement


class GradeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Customer"), field_name="customer__name", lookup_expr="icontains"
    )
    movement = django_filters.ChoiceFilter(
        label=_("Movement"),
        choices=[*Movement.choices, ("changed", _("Moved up or down"))],
        method="filter_movement",
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=Tier.choices)
    incomplete = django_filters.BooleanFilter(label=_("Incomplete"))
    overridden = django_filters.BooleanFilter(
        label=_("Overridden"), field_name="overridden_at", lookup_expr="isnull", exclude=True
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), field_name="customer__department", queryset=Department.objects.all()
    )
    mine = django_filters.BooleanFilter(label=_("My customers only"), method="filter_mine")

    class Meta:
        model = Grade
        fields = ["q", "movement", "tier", "incomplete", "overridden", "department", "mine"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_movement(self, queryset, name, value):
        if value == "changed":
            return queryset.filter(movement__in=[Movement.UP, Movement.DOWN])
        return queryset.filter(movement=value)

    def filter_mine(self, queryset, name, value):
        if not value or self.user is None:
            return queryset
        return queryset.filter(
            Q(customer__primary_manager=self.user) | Q(customer__assistant_manager=self.user)
        )


class AppealFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AppealStatus.choices)
    period = django_filters.CharFilter(label=_("Period"), field_name="grade__run__period")

    class Meta:
        model = Appeal
        fields = ["status", "period"]
