from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.filters import CHOICE_FIELDS
from accounts.models import Department, User
from accounts.widgets import PlainSelect


def default_start(today: date) -> date:
    """The first day of the quarter three quarters back: four quarters up to today."""
    back = today - timedelta(days=270)
    return date(back.year, 3 * ((back.month - 1) // 3) + 1, 1)


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=_("Period start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Period end"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        widget=PlainSelect,
    )
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, widget=PlainSelect
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.order_by("name")
        managers = User.objects.filter(
            is_active=True, groups__name=permissions.Role.ACCOUNT_MANAGER
        ).order_by("username")
        if not permissions.sees_everything(user):
            if permissions.is_department_head(user):
                ids = permissions.headed_department_ids(user)
                departments = departments.filter(pk__in=ids)
                managers = managers.filter(department__in=ids)
            else:
                departments = departments.filter(pk=user.department_id)
                managers = managers.filter(pk=user.pk)
        self.fields["department"].queryset = departments
        self.fields["manager"].queryset = managers.only(*CHOICE_FIELDS).distinct()

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period must start before it ends."))
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 3660:
            raise forms.ValidationError(_("The period may cover at most ten years."))
        return data
