from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from . import permissions
from .models import (
    Contact,
    Customer,
    Department,
    ManagerRole,
    QualificationDocument,
    Transaction,
    User,
)
from .validators import normalize_credit_code

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Magic numbers of the document formats we accept: PDF and common images.
DOCUMENT_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}
DOCUMENT_EXTENSIONS = {".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp"}


def check_upload(upload) -> None:
    """Refuse files over the size limit and files that are not really a PDF or an image."""
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is %(size)s; the limit is %(limit)s."),
            code="too_large",
            params={
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
            },
        )
    name = (upload.name or "").lower()
    if not any(name.endswith(ext) for ext in DOCUMENT_EXTENSIONS):
        raise forms.ValidationError(
            _("Upload a PDF or an image (PNG, JPEG, GIF, WebP)."), code="bad_type"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if not is_webp and not any(head.startswith(sig) for sig in DOCUMENT_SIGNATURES):
        raise forms.ValidationError(
            _("The file's content is not a PDF or an image, whatever its name says."),
            code="bad_content",
        )


class CustomerForm(forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        label=_("I have checked the similar customers above; save this one anyway"),
        required=False,
    )

    class Meta:
        model = Customer
        # Credit terms and limit are shown, not edited (customer_form.html): they change
        # through a credit request decided by finance. New customers start prepaid, limit 0.
        fields = [
            "name",
            "short_name",
            "credit_code",
            "customer_type",
            "industry",
            "province",
            "city",
            "address",
            "source_channel",
            "department",
            "primary_manager",
            "assistant_manager",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.duplicates: list[Customer] = []
        departments = Department.objects.all()
        if not permissions.is_admin(user):
            allowed = set(permissions.headed_department_ids(user))
            if user.department_id:
                allowed.add(user.department_id)
            departments = departments.filter(pk__in=allowed)
        self.fields["department"].queryset = departments
        if user.department_id and not self.instance.pk:
            self.fields["department"].initial = user.department_id
        managers = User.objects.filter(
            is_active=True,
            groups__name__in=[permissions.Role.ACCOUNT_MANAGER, permissions.Role.DEPARTMENT_HEAD],
        ).distinct()
        if not permissions.is_admin(user):
            managers = managers.filter(department__in=departments)
        for name in ("primary_manager", "assistant_manager"):
            self.fields[name].queryset = managers
        if self.instance.pk:
            # Managers change through the assignment page, with a reason on record.
            del self.fields["primary_manager"]
            del self.fields["assistant_manager"]
            del self.fields["department"]

    def _check_managers(self, cleaned) -> None:
        """The managers a new customer may have: the assignment page's rule."""
        from .errors import BusinessRuleError
        from .services import check_assignee

        primary = cleaned.get("primary_manager")
        assistant = cleaned.get("assistant_manager")
        for name, user, other in (
            ("primary_manager", primary, None),
            ("assistant_manager", assistant, primary),
        ):
            try:
                check_assignee(
                    department_id=cleaned["department"].pk,
                    role=ManagerRole(name),
                    user=user,
                    actor=self.user,
                    other_user_id=other.pk if other else None,
                )
            except BusinessRuleError as error:
                self.add_error(name, str(error))

    def clean_credit_code(self) -> str:
        return normalize_credit_code(self.cleaned_data.get("credit_code", ""))

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and cleaned.get("department"):
            self._check_managers(cleaned)
        name_changed = not self.instance.pk or "name" in self.changed_data
        code_changed = not self.instance.pk or "credit_code" in self.changed_data
        if cleaned.get("name") and not self.errors and (name_changed or code_changed):
            from .selectors import possible_duplicates

            self.duplicates = possible_duplicates(
                name=cleaned["name"],
                credit_code=cleaned.get("credit_code", ""),
                exclude_pk=self.instance.pk,
            )
            if self.duplicates and not cleaned.get("confirm_duplicate"):
                raise forms.ValidationError(
                    _(
                        "Customers with a similar name or the same credit code already exist. "
                        "Check them above; tick the box to save this customer anyway."
                    ),
                    code="possible_duplicate",
                )
        return cleaned


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "department",
            "decision_role",
            "phone",
            "email",
            "wechat",
            "birthday",
            "is_primary",
        ]
        widgets = {"birthday": DATE_INPUT}


class TransactionForm(forms.ModelForm):
    class Meta:
        model = Transaction
        fields = ["date", "amount", "profit", "due_date", "paid_date", "reference"]
        widgets = {"date": DATE_INPUT, "due_date": DATE_INPUT, "paid_date": DATE_INPUT}

    def clean(self):
        from .services import transaction_field_errors

        cleaned = super().clean()
        for name, message in transaction_field_errors(
            date=cleaned.get("date"),
            amount=cleaned.get("amount"),
            profit=cleaned.get("profit"),
            due_date=cleaned.get("due_date"),
            paid_date=cleaned.get("paid_date"),
        ):
            self.add_error(name, message)
        return cleaned


class DocumentForm(forms.ModelForm):
    class Meta:
        model = QualificationDocument
        fields = ["kind", "file", "expires_on"]
        widgets = {"expires_on": DATE_INPUT}
        help_texts = {"file": _("PDF or image, at most 10 MB.")}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            check_upload(upload)
        return upload


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class AdmissionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Give a reason for the rejection."))
        return cleaned


class AssignmentForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ManagerRole.choices)
    user = forms.ModelChoiceField(
        label=_("New manager"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty to clear the assistant or chief manager."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, customer: Customer, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        candidates = User.objects.filter(is_active=True, groups__name__in=list(permissions.Role))
        if not permissions.is_admin(actor):
            candidates = candidates.filter(department=customer.department) | User.objects.filter(
                is_active=True, groups__name=permissions.Role.EXECUTIVE
            )
        self.fields["user"].queryset = candidates.distinct().order_by("username")


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(label=_("Departing manager"), queryset=User.objects.none())
    to_user = forms.ModelChoiceField(label=_("Successor"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(
            groups__name__in=[permissions.Role.ACCOUNT_MANAGER, permissions.Role.DEPARTMENT_HEAD]
        ).distinct()
        if not permissions.is_admin(actor):
            staff = staff.filter(department__in=permissions.headed_department_ids(actor))
        self.fields["from_user"].queryset = staff.order_by("username")
        # Inactive successors stay in the list so that the refusal is explained, not hidden.
        self.fields["to_user"].queryset = staff.order_by("username")


class ImportUploadForm(forms.Form):
    """An Excel file to import; the file itself is checked by accounts.imports."""

    kind = forms.ChoiceField(label=_("What the file holds"), widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        from .imports import ImportKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ImportKind.choices
        self.fields["kind"].initial = ImportKind.CUSTOMERS
        self.fields["file"].help_text = _(
            "At most %(size)s and %(rows)s rows. Headers in Chinese or English."
        ) % {
            "size": filesizeformat(settings.IMPORT_MAX_BYTES),
            "rows": f"{settings.IMPORT_MAX_ROWS:,}",
        }
