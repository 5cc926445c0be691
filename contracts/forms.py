from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import check_upload

from .models import Contract
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
