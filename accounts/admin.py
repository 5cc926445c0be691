from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .admin_base import (
    AuditAdmin,
    CrmAdmin,
    CrmHistoryAdmin,
    GuardedAdminMixin,
    ReadOnlyInline,
    state_action,
)
from .models import (
    AdmissionRequest,
    AssignmentChange,
    Contact,
    Customer,
    DataTransferLog,
    Department,
    Handover,
    ManagerRole,
    PoolPolicy,
    PoolReturnRule,
    PoolWarning,
    QualificationDocument,
    Transaction,
    User,
)


@admin.register(User)
class UserAdmin(GuardedAdminMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    """Users leave by being deactivated, never deleted: their records name them."""

    list_display = ["username", "last_name", "first_name", "department", "title", "is_active"]
    list_filter = ["is_active", "is_superuser", "groups", "department"]
    search_fields = ["username", "first_name", "last_name", "email", "phone"]
    autocomplete_fields = ["department"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Organisation"), {"fields": ("department", "title", "phone")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Organisation"), {"fields": ("department", "title", "phone")}),
    )


@admin.register(Department)
class DepartmentAdmin(CrmAdmin):
    list_display = ["name", "code", "head"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["head"]


class ContactInline(ReadOnlyInline):
    """Shown only: a contact is changed on its own admin page, through contact_update (one
    primary contact per customer), which an inline's save would skip."""

    model = Contact
    fields = ["name", "title", "decision_role", "phone", "email", "is_primary", "is_active"]


# The fields of a customer that only the services change: status through admission, dormancy
# and termination; managers through assignment, claims and handovers; tier and score through
# grading; credit terms and limit through a credit request.
CUSTOMER_GUARDED = (
    "status",
    "department",
    "primary_manager",
    "assistant_manager",
    "chief_manager",
    "tier",
    "score",
    "credit_terms",
    "credit_limit",
    "terminated_reason",
    "pool_locked",
    "pool_lock_reason",
    "created_by",
)


class AssignManagerForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ManagerRole.choices)
    user = forms.ModelChoiceField(
        label=_("New manager"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text=_("Leave empty to remove the manager."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Customer)
class CustomerAdmin(CrmHistoryAdmin):
    list_display = [
        "name",
        "credit_code",
        "status",
        "tier",
        "score",
        "department",
        "primary_manager",
        "created_at",
    ]
    list_filter = ["status", "tier", "customer_type", "industry", "department"]
    search_fields = ["name", "short_name", "credit_code"]
    autocomplete_fields = [
        "department",
        "primary_manager",
        "assistant_manager",
        "chief_manager",
        "created_by",
    ]
    list_select_related = ["department", "primary_manager"]
    guarded_fields = CUSTOMER_GUARDED
    # A customer is created through customer_create (a prospect, with its assignment record).
    allow_add = False
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactInline]
    date_hierarchy = "created_at"
    # A filtered page counts its matches only, not the whole table a second time.
    show_full_result_count = False
    actions = [
        "assign_manager",
        "mark_dormant",
        "wake",
        "terminate",
        "release_to_pool",
        "lock_pool",
        "unlock_pool",
    ]

    @state_action(_("Change a manager…"), form=AssignManagerForm)
    def assign_manager(self, request, customer, role, user, reason):
        services.customer_assign_manager(
            customer=customer, role=role, user=user, assigned_by=request.user, reason=reason
        )

    @state_action(_("Mark dormant"))
    def mark_dormant(self, request, customer):
        services.customer_set_dormant(customer=customer, changed_by=request.user, dormant=True)

    @state_action(_("Wake a dormant customer"))
    def wake(self, request, customer):
        services.customer_set_dormant(customer=customer, changed_by=request.user, dormant=False)

    @state_action(_("Terminate…"), reason=True)
    def terminate(self, request, customer, reason):
        services.customer_terminate(customer=customer, terminated_by=request.user, reason=reason)

    @state_action(_("Release to the pool…"), reason=True)
    def release_to_pool(self, request, customer, reason):
        services.pool_release(customer=customer, released_by=request.user, reason=reason)

    @state_action(_("Exempt from return to the pool…"), reason=True)
    def lock_pool(self, request, customer, reason):
        services.customer_pool_lock(
            customer=customer, locked_by=request.user, locked=True, reason=reason
        )

    @state_action(_("Lift the pool exemption"))
    def unlock_pool(self, request, customer):
        services.customer_pool_lock(customer=customer, locked_by=request.user, locked=False)


@admin.register(Contact)
class ContactAdmin(CrmHistoryAdmin):
    list_display = ["name", "customer", "title", "decision_role", "phone", "is_primary"]
    list_filter = ["decision_role", "is_primary", "is_active"]
    search_fields = ["name", "phone", "email", "customer__name"]
    list_select_related = ["customer"]
    # Contacts are added on the customer's page (contact_add); edits go through contact_update.
    allow_add = False
    guarded_fields = ("customer",)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        contact = Contact.objects.get(pk=obj.pk)
        services.contact_update(contact=contact, updated_by=request.user, **fields)


@admin.register(Transaction)
class TransactionAdmin(CrmHistoryAdmin):
    # Deliveries are recorded through transaction_add, which applies the prepayment rule and
    # the credit terms; what it decided (amount, dates, paid) feeds receivables and exposure.
    allow_add = False
    guarded_fields = ("customer", "date", "amount", "due_date", "paid_date", "created_by")

    list_display = ["customer", "date", "amount", "profit", "due_date", "paid_date", "reference"]
    list_filter = ["date"]
    search_fields = ["reference", "customer__name"]
    autocomplete_fields = ["customer", "created_by"]
    list_select_related = ["customer"]
    date_hierarchy = "date"


@admin.register(QualificationDocument)
class QualificationDocumentAdmin(CrmHistoryAdmin):
    allow_add = False
    guarded_fields = ("customer", "kind", "verified_by", "verified_at", "uploaded_by", "is_current")
    actions = ["verify"]

    list_display = ["customer", "kind", "expires_on", "verified_by", "is_current", "uploaded_at"]
    list_filter = ["kind", "is_current"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "verified_by", "uploaded_by"]
    list_select_related = ["customer", "verified_by"]

    @state_action(_("Mark verified"))
    def verify(self, request, document):
        services.document_verify(document=document, verified_by=request.user)


@admin.register(AdmissionRequest)
class AdmissionRequestAdmin(AuditAdmin):
    list_display = ["customer", "submitted_by", "submitted_at", "decision", "decided_by"]
    list_filter = ["decision"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "submitted_by", "decided_by"]
    list_select_related = ["customer", "submitted_by", "decided_by"]
    actions = ["approve", "reject"]

    @state_action(_("Approve admission"), reason=True, reason_required=False)
    def approve(self, request, admission, reason):
        services.admission_decide(
            admission=admission, decided_by=request.user, approve=True, comment=reason
        )

    @state_action(_("Reject admission…"), reason=True)
    def reject(self, request, admission, reason):
        services.admission_decide(
            admission=admission, decided_by=request.user, approve=False, comment=reason
        )


@admin.register(AssignmentChange)
class AssignmentChangeAdmin(AuditAdmin):
    list_display = ["customer", "role", "kind", "old_user", "new_user", "changed_by", "changed_at"]
    list_filter = ["role", "kind"]
    search_fields = ["customer__name", "reason"]
    autocomplete_fields = ["customer", "old_user", "new_user", "changed_by", "handover"]
    list_select_related = ["customer", "old_user", "new_user", "changed_by"]


@admin.register(Handover)
class HandoverAdmin(AuditAdmin):
    list_display = ["from_user", "to_user", "performed_by", "performed_at"]
    search_fields = ["from_user__username", "to_user__username", "reason"]
    autocomplete_fields = ["from_user", "to_user", "performed_by"]


@admin.register(PoolPolicy)
class PoolPolicyAdmin(CrmAdmin):
    list_display = ["__str__", "max_customers_per_manager", "max_claims_per_day", "warning_days"]

    def has_add_permission(self, request) -> bool:
        return not PoolPolicy.objects.exists()


@admin.register(PoolReturnRule)
class PoolReturnRuleAdmin(CrmAdmin):
    list_display = ["scope", "days_without_contact", "days_without_transaction", "is_active"]
    list_editable = ["days_without_contact", "days_without_transaction", "is_active"]


@admin.register(PoolWarning)
class PoolWarningAdmin(AuditAdmin):
    list_display = ["customer", "manager", "returns_on", "reason", "warned_at"]
    list_filter = ["returns_on"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "manager"]
    list_select_related = ["customer", "manager"]


@admin.register(DataTransferLog)
class DataTransferLogAdmin(AuditAdmin):
    """Read-only audit of Excel imports and exports."""

    list_display = ["at", "user", "kind", "what", "row_count", "filename"]
    list_filter = ["kind", "what"]
    search_fields = ["user__username", "filename", "what"]
    date_hierarchy = "at"
