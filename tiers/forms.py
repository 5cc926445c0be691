from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier


class PeriodForm(forms.Form):
    period = forms.CharField(
        label=_("Period"), max_length=6, help_text=_("A quarter, such as 2026Q3.")
    )


class OverrideForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class AppealForm(forms.Form):
    requested_tier = forms.ChoiceField(label=_("Requested tier"), choices=Tier.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold: change the tier")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting."),
    )


class AssessmentForm(forms.Form):
    """One value (0–100) and note per assessed indicator of the active model."""

    def __init__(self, *args, indicators=(), previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        previous = previous or {}
        self.rows = []
        for indicator in indicators:
            last = previous.get(indicator.code)
            self.fields[f"{indicator.code}__value"] = forms.DecimalField(
                label=indicator.label,
                required=False,
                max_digits=4,
                decimal_places=1,
                validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
                initial=last.value if last else None,
                help_text=indicator.description,
            )
            self.fields[f"{indicator.code}__note"] = forms.CharField(
                label=_("Note"), required=False, max_length=255
            )
            self.rows.append(
                (indicator, self[f"{indicator.code}__value"], self[f"{indicator.code}__note"], last)
            )

    def values(self) -> dict:
        """Return {code: (value, note)} for the indicators that were filled in."""
        data = {}
        for indicator, *_rest in self.rows:
            value = self.cleaned_data.get(f"{indicator.code}__value")
            if value is not None:
                data[indicator.code] = (value, self.cleaned_data.get(f"{indicator.code}__note", ""))
        return data
