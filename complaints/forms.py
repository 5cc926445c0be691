from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import check_upload
from accounts.models import Contact, Department, User

from .models import Complaint


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        cleaned = [single(item, initial) for item in files if item]
        for upload in cleaned:
            check_upload(upload)
        return cleaned


class ComplaintForm(forms.ModelForm):
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    class Meta:
        model = Complaint
        fields = ["contact", "channel", "category", "severity", "received_at", "description"]
        widgets = {
            "received_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "description": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        # Only contacts of this customer.
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer, is_active=True)
        self.fields["received_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class TransitionForm(forms.Form):
    to_status = forms.CharField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    satisfaction = forms.IntegerField(
        label=_("Satisfaction"), required=False, min_value=1, max_value=5
    )


class ConfirmationForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("Customer's satisfaction"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        help_text=_("5 very satisfied … 1 very unsatisfied; 2 or less reopens the complaint."),
    )
    not_satisfied = forms.BooleanField(
        label=_("The customer is not satisfied: reopen the complaint"), required=False
    )
    comment = forms.CharField(
        label=_("Customer's comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Entry"), widget=forms.Textarea(attrs={"rows": 2}))


class FollowUpForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


class TaskForceForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Staff member"), queryset=User.objects.filter(is_active=True), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.all(), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("user")) == bool(cleaned.get("department")):
            raise forms.ValidationError(_("Choose either a staff member or a department."))
        return cleaned
