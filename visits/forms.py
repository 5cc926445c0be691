from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts.forms import DATE_INPUT
from accounts.models import Contact, Customer, CustomerStatus, User
from accounts.permissions import Role

from .models import CareExpense, FeedbackCategory, VisitRecord


def staff_users():
    """Active users holding a staff role: who can take part in a visit."""
    roles = Group.objects.filter(
        name__in=[Role.ACCOUNT_MANAGER, Role.DEPARTMENT_HEAD, Role.EXECUTIVE]
    )
    return User.objects.filter(is_active=True, groups__in=roles).distinct().order_by("username")


class VisitRecordForm(forms.ModelForm):
    class Meta:
        model = VisitRecord
        fields = [
            "date",
            "kind",
            "participants",
            "contacts",
            "purpose",
            "summary",
            "customer_needs",
            "competitor_info",
            "next_steps",
            "next_visit_date",
            "satisfaction",
        ]
        widgets = {
            "date": DATE_INPUT,
            "next_visit_date": DATE_INPUT,
            "participants": forms.CheckboxSelectMultiple,
            "contacts": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "customer_needs": forms.Textarea(attrs={"rows": 2}),
            "competitor_info": forms.Textarea(attrs={"rows": 2}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
            "satisfaction": forms.Select(choices=[("", "–")] + [(n, str(n)) for n in range(1, 6)]),
        }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this customer's contacts can be chosen.
        self.fields["contacts"].queryset = Contact.objects.filter(customer=customer, is_active=True)
        self.fields["participants"].queryset = staff_users()


class PlanMoveForm(forms.Form):
    new_date = forms.DateField(label=_("New date"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class PlanCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CareExpenseForm(forms.ModelForm):
    class Meta:
        model = CareExpense
        fields = ["date", "kind", "description", "cost"]
        widgets = {"date": DATE_INPUT}


class FeedbackForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=FeedbackCategory.choices)
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = (
            Customer.objects.visible_to(user)
            .filter(primary_manager__isnull=False)
            .exclude(status=CustomerStatus.TERMINATED)
            .order_by("name")
        )
