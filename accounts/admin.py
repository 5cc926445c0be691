from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    AdmissionRequest,
    AssignmentChange,
    Contact,
    Customer,
    DataTransferLog,
    Department,
    Handover,
    PoolPolicy,
    PoolReturnRule,
    PoolWarning,
    QualificationDocument,
    Transaction,
    User,
)


class NoDeleteMixin:
    """Business records are never hard-deleted; they are terminated or superseded."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
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
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "head"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["head"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "decision_role", "phone", "email", "is_primary", "is_active"]
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(NoDeleteMixin, SimpleHistoryAdmin):
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
    readonly_fields = ["tier", "score", "created_at", "updated_at"]
    inlines = [ContactInline]
    date_hierarchy = "created_at"
    # A filtered page counts its matches only, not the whole table a second time.
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "customer", "title", "decision_role", "phone", "is_primary"]
    list_filter = ["decision_role", "is_primary", "is_active"]
    search_fields = ["name", "phone", "email", "customer__name"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(Transaction)
class TransactionAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "date", "amount", "profit", "due_date", "paid_date", "reference"]
    list_filter = ["date"]
    search_fields = ["reference", "customer__name"]
    autocomplete_fields = ["customer", "created_by"]
    list_select_related = ["customer"]
    date_hierarchy = "date"


@admin.register(QualificationDocument)
class QualificationDocumentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "kind", "expires_on", "verified_by", "is_current", "uploaded_at"]
    list_filter = ["kind", "is_current"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "verified_by", "uploaded_by"]
    list_select_related = ["customer", "verified_by"]


@admin.register(AdmissionRequest)
class AdmissionRequestAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "submitted_by", "submitted_at", "decision", "decided_by"]
    list_filter = ["decision"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "submitted_by", "decided_by"]
    list_select_related = ["customer", "submitted_by", "decided_by"]


@admin.register(AssignmentChange)
class AssignmentChangeAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "role", "kind", "old_user", "new_user", "changed_by", "changed_at"]
    list_filter = ["role", "kind"]
    search_fields = ["customer__name", "reason"]
    autocomplete_fields = ["customer", "old_user", "new_user", "changed_by", "handover"]
    list_select_related = ["customer", "old_user", "new_user", "changed_by"]


@admin.register(Handover)
class HandoverAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["from_user", "to_user", "performed_by", "performed_at"]
    search_fields = ["from_user__username", "to_user__username", "reason"]
    autocomplete_fields = ["from_user", "to_user", "performed_by"]


@admin.register(PoolPolicy)
class PoolPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "max_customers_per_manager", "max_claims_per_day", "warning_days"]

    def has_add_permission(self, request) -> bool:
        return not PoolPolicy.objects.exists()


@admin.register(PoolReturnRule)
class PoolReturnRuleAdmin(admin.ModelAdmin):
    list_display = ["scope", "days_without_contact", "days_without_transaction", "is_active"]
    list_editable = ["days_without_contact", "days_without_transaction", "is_active"]


@admin.register(PoolWarning)
class PoolWarningAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "manager", "returns_on", "reason", "warned_at"]
    list_filter = ["returns_on"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "manager"]
    list_select_related = ["customer", "manager"]


@admin.register(DataTransferLog)
class DataTransferLogAdmin(admin.ModelAdmin):
    """Read-only audit of Excel imports and exports."""

    list_display = ["at", "user", "kind", "what", "row_count", "filename"]
    list_filter = ["kind", "what"]
    search_fields = ["user__username", "filename", "what"]
    date_hierarchy = "at"
    readonly_fields = ["at", "user", "kind", "what", "row_count", "filename", "query"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
