from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    ApprovalRound,
    ApprovalRule,
    ApprovalStep,
    Collection,
    CollectionAllocation,
    Contract,
    ContractNumberCounter,
    CreditOverride,
    CreditPolicy,
    CreditRequest,
    PaymentInstalment,
    PrepaymentUse,
)


class NoDeleteMixin:
    """Business records are never hard-deleted."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    """Admins edit the rules here; a change applies to contracts submitted afterwards."""

    list_display = [
        "order",
        "name",
        "decider_role",
        "always",
        "min_amount",
        "min_discount",
        "customer_tiers",
        "over_credit_limit",
        "is_active",
    ]
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["decider_role", "is_active", "always"]
    search_fields = ["name"]


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 0
    can_delete = False
    fields = ["order", "name", "decider_role", "status", "decided_by", "decided_at", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = [
        "number",
        "title",
        "customer",
        "amount",
        "status",
        "owner",
        "department",
        "end_date",
    ]
    list_filter = ["status", "department", "customer__tier"]
    search_fields = ["number", "title", "customer__name"]
    autocomplete_fields = ["customer", "owner", "department"]
    date_hierarchy = "end_date"
    # State changes go through the services (the pages); admin may correct descriptive fields.
    readonly_fields = [
        "number",
        "status",
        "submitted_at",
        "approved_at",
        "signed_on",
        "signed_by",
        "filed_on",
        "filed_by",
        "activated_at",
        "expired_at",
        "terminated_at",
        "terminated_by",
        "created_by",
    ]
    list_select_related = ["customer", "owner", "department"]


@admin.register(ApprovalRound)
class ApprovalRoundAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["contract", "number", "submitted_by", "submitted_at", "outcome"]
    list_filter = ["outcome"]
    search_fields = ["contract__number"]
    autocomplete_fields = ["contract", "submitted_by"]
    inlines = [ApprovalStepInline]
    readonly_fields = ["outcome", "closed_at"]


@admin.register(ApprovalStep)
class ApprovalStepAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["contract", "round", "order", "name", "decider_role", "status", "decided_by"]
    list_filter = ["status", "decider_role"]
    search_fields = ["contract__number", "name"]
    autocomplete_fields = ["contract", "round", "rule", "department", "decided_by"]
    readonly_fields = ["status", "decided_by", "decided_at", "comment"]


@admin.register(ContractNumberCounter)
class ContractNumberCounterAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["year", "value"]
    search_fields = ["year"]
    readonly_fields = ["year", "value"]


# --- Receivables (read-mostly: changes go through the services) ------------------------------


@admin.register(PaymentInstalment)
class PaymentInstalmentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["contract", "sequence", "due_date", "amount"]
    list_filter = ["contract__status", "due_date"]
    search_fields = ["contract__number", "contract__customer__name"]
    autocomplete_fields = ["contract"]
    date_hierarchy = "due_date"


class CollectionAllocationInline(admin.TabularInline):
    model = CollectionAllocation
    extra = 0
    can_delete = False
    fields = ["instalment", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Collection)
class CollectionAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["contract", "received_on", "amount", "method", "reference", "confirmed_at"]
    list_filter = ["method", "received_on", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["contract__number", "contract__customer__name", "reference"]
    autocomplete_fields = ["contract", "recorded_by", "confirmed_by"]
    readonly_fields = ["confirmed_by", "confirmed_at"]
    inlines = [CollectionAllocationInline]


@admin.register(CreditOverride)
class CreditOverrideAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "max_amount", "approved_by", "approved_at", "used_at"]
    list_filter = [("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__name", "reason"]
    autocomplete_fields = ["customer", "approved_by"]


# --- Credit (read-only: requests change through their services) ------------------------------


@admin.register(CreditPolicy)
class CreditPolicyAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Admins set the amount above which a credit request also needs an executive."""

    list_display = ["__str__", "executive_above"]


class ReadOnlyAdmin(NoDeleteMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditRequest)
class CreditRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "old_terms",
        "old_limit",
        "new_terms",
        "new_limit",
        "status",
        "proposed_by",
        "proposed_at",
    ]
    list_filter = ["status", "new_terms", "needs_executive"]
    search_fields = ["customer__name", "reason"]
    list_select_related = ["customer", "proposed_by"]


@admin.register(PrepaymentUse)
class PrepaymentUseAdmin(ReadOnlyAdmin):
    list_display = ["customer", "transaction", "amount", "created_at"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "transaction"]
