from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import check_upload
from accounts.models import CreditTerms

from .models import Collection, Contract, CreditOverride
from .selectors import draftable_customers

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _checked_upload(upload):
    if upload and hasattr(upload, "size") and not getattr(upload, "_committed", False):
        check_upload(upload)
    return upload


class ContractForm(forms.ModelForm):
    """Draft or edit a contract; the customer is chosen only when drafting."""

    class Meta:
        model = Contract
        fields = [
            "customer",
            "title",
            "amount",
            "discount_percent",
            "start_date",
            "end_date",
            "payment_terms",
            "text_document",
        ]
        widgets = {
            "start_date": DATE_INPUT,
            "end_date": DATE_INPUT,
            "payment_terms": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"text_document": _("PDF or image, at most 10 MB.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            del self.fields["customer"]
        else:
            self.fields["customer"].queryset = draftable_customers(user)

    def clean_text_document(self):
        return _checked_upload(self.cleaned_data.get("text_document"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The end date must be after the start date."))
        return cleaned


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Give a reason for the rejection."))
        return cleaned


class SignForm(forms.Form):
    signed_scan = forms.FileField(
        label=_("Signed scan"), help_text=_("PDF or image of the signed contract, at most 10 MB.")
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"signed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_signed_scan(self):
        return _checked_upload(self.cleaned_data.get("signed_scan"))


class FilingForm(forms.Form):
    filed_on = forms.DateField(label=_("Filed on (备案)"), widget=DATE_INPUT)
    filing_reference = forms.CharField(label=_("Filing reference"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"filed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


# --- Receivables ---------------------------------------------------------------------------


class InstalmentForm(forms.Form):
    due_date = forms.DateField(label=_("Due date"), widget=DATE_INPUT)
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


InstalmentFormSet = forms.formset_factory(
    InstalmentForm, extra=0, min_num=1, validate_min=True, max_num=60, validate_max=True
)


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["received_on", "amount", "method", "reference", "note"]
        widgets = {"received_on": DATE_INPUT}


class CreditOverrideForm(forms.ModelForm):
    class Meta:
        model = CreditOverride
        fields = ["max_amount", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}


# The optional plan on the "new contract" page: empty rows are ignored.
DraftPlanFormSet = forms.formset_factory(InstalmentForm, extra=4, max_num=24, validate_max=True)


# --- Credit requests -----------------------------------------------------------------------


class CreditRequestForm(forms.Form):
    credit_terms = forms.ChoiceField(label=_("Proposed terms"), choices=CreditTerms.choices)
    credit_limit = forms.DecimalField(
        label=_("Proposed credit limit (CNY)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        help_text=_("0 for prepaid terms."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
