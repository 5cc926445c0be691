import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField, ModelChoiceIterator

from . import permissions
from .models import (
    Customer,
    CustomerStatus,
    Department,
    Industry,
    Tier,
    User,
    customers_matching,
    display_name,
)
from .widgets import PlainSelect


class StableOrderingFilter(django_filters.OrderingFilter):
    """Order by the chosen fields, then by id in the last field's direction.

    A total order keeps rows from repeating or vanishing between pages, and a (field, id) index
    serves it in either direction.
    """

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        chosen = [param for param in value or () if param]
        if not chosen:
            return qs
        return qs.order_by(*qs.query.order_by, "-id" if chosen[-1].startswith("-") else "id")


# The fields a user's choice label (User.__str__) needs.
CHOICE_FIELDS = ("id", "username", "first_name", "last_name")


class _UserValuesIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # Plain rows, read at once: no User built per option (the list offers every manager
        # of a large company) and no server-side cursor for a few hundred rows.
        for pk, *names in list(self.queryset.values_list(*CHOICE_FIELDS)):
            yield (pk, display_name(*names))


class UserChoiceIterator(ModelChoiceIterator, _UserValuesIterator):
    """django-filter's iterator (its null choice) over plain (id, name) rows."""


class UserChoiceField(ModelChoiceField):
    iterator = UserChoiceIterator


class UserChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = UserChoiceField


class BootstrapFilterSet(django_filters.FilterSet):
    """A filter set whose form partials/filter_fields.html renders directly: crispy's templates
    per field were most of a list page's rendering time."""

    @property
    def form(self):
        """The form, its widgets classed as Bootstrap wants (partials/filter_fields.html)."""
        form = super().form
        if not getattr(form, "styled", False):
            for field in form.fields.values():
                select = isinstance(field.widget, forms.Select)
                field.widget.attrs.setdefault("class", "form-select" if select else "form-control")
            form.styled = True
        return form


class CustomerFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        help_text=_("Name, short name, credit code, contact name or phone"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CustomerStatus.choices, widget=PlainSelect
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=Tier.choices, widget=PlainSelect)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.all(), widget=PlainSelect
    )
    manager = UserChoiceFilter(
        label=_("Manager"),
        queryset=User.objects.none(),
        method="filter_manager",
        widget=PlainSelect,
    )
    industry = django_filters.ChoiceFilter(
        label=_("Industry"), choices=Industry.choices, widget=PlainSelect
    )
    province = django_filters.CharFilter(label=_("Province"), lookup_expr="exact")
    city = django_filters.CharFilter(label=_("City"), lookup_expr="exact")
    ordering = StableOrderingFilter(
        label=_("Sort by"),
        widget=PlainSelect,
        fields=(
            ("name", "name"),
            ("created_at", "created"),
            ("score", "score"),
            ("tier", "tier"),
            ("status", "status"),
        ),
        field_labels={
            "name": _("Name"),
            "created_at": _("Created"),
            "score": _("Score"),
            "tier": _("Tier"),
            "status": _("Status"),
        },
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "tier", "department", "manager", "industry", "province", "city"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(
            groups__name__in=[permissions.Role.ACCOUNT_MANAGER, permissions.Role.DEPARTMENT_HEAD]
        ).distinct()
        if user is not None and not permissions.sees_everything(user):
            departments = permissions.headed_department_ids(user) or [user.department_id]
            staff = staff.filter(department__in=departments)
            self.filters["department"].queryset = Department.objects.filter(pk__in=departments)
        # Only what a choice shows: the list offers every manager of a large company.
        self.filters["manager"].queryset = staff.order_by("username")

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(pk__in=customers_matching(term))

    def filter_manager(self, queryset, name, value):
        return queryset.filter(Q(primary_manager=value) | Q(assistant_manager=value))
