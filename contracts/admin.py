from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    AuditAdmin,
    CrmAdmin,
    CrmHistoryAdmin,
    ReadOnlyInline,
    state_action,
)

from . import services
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


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(CrmHistoryAdmin):
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


class ApprovalStepInline(ReadOnlyInline):
    model = ApprovalStep
    fields = ["order", "name", "decider_role", "status", "decided_by", "decided_at", "comment"]


@admin.register(Contract)
class ContractAdmin(CrmHistoryAdmin):
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
    # What the approval decided on (amount, discount, customer) stays as approved.
    allow_add = False
    guarded_fields = (
        "number",
        "customer",
        "department",
        "owner",
        "amount",
        "discount_percent",
        "status",
        "rejection_comment",
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
        "terminated_reason",
        "created_by",
    )
    list_select_related = ["customer", "owner", "department"]
    actions = ["terminate"]

    @state_action(_("Terminate…"), reason=True)
    def terminate(self, request, contract, reason):
        services.contract_terminate(contract=contract, terminated_by=request.user, reason=reason)


@admin.register(ApprovalRound)
class ApprovalRoundAdmin(AuditAdmin):
    list_display = ["contract", "number", "submitted_by", "submitted_at", "outcome"]
    list_filter = ["outcome"]
    search_fields = ["contract__number"]
    inlines = [ApprovalStepInline]


@admin.register(ApprovalStep)
class ApprovalStepAdmin(AuditAdmin):
    list_display = ["contract", "round", "order", "name", "decider_role", "status", "decided_by"]
    list_filter = ["status", "decider_role"]
    search_fields = ["contract__number", "name"]
    actions = ["approve", "reject"]

    @state_action(_("Approve the step"), reason=True, reason_required=False)
    def approve(self, request, step, reason):
        services.step_decide(step=step, decided_by=request.user, approve=True, comment=reason)

    @state_action(_("Reject the step…"), reason=True)
    def reject(self, request, step, reason):
        services.step_decide(step=step, decided_by=request.user, approve=False, comment=reason)


@admin.register(ContractNumberCounter)
class ContractNumberCounterAdmin(AuditAdmin):
    list_display = ["year", "value"]
    search_fields = ["year"]


# --- Receivables (read-mostly: changes go through the services) ------------------------------


@admin.register(PaymentInstalment)
class PaymentInstalmentAdmin(CrmHistoryAdmin):
    # The plan is set through plan_set, which checks it against the contract and collections.
    allow_add = False
    guarded_fields = ("contract", "sequence", "due_date", "amount")

    list_display = ["contract", "sequence", "due_date", "amount"]
    list_filter = ["contract__status", "due_date"]
    search_fields = ["contract__number", "contract__customer__name"]
    autocomplete_fields = ["contract"]
    date_hierarchy = "due_date"


class CollectionAllocationInline(ReadOnlyInline):
    model = CollectionAllocation
    fields = ["instalment", "amount"]
    show_change_link = False


@admin.register(Collection)
class CollectionAdmin(CrmHistoryAdmin):
    list_display = ["contract", "received_on", "amount", "method", "reference", "confirmed_at"]
    list_filter = ["method", "received_on", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["contract__number", "contract__customer__name", "reference"]
    autocomplete_fields = ["contract", "recorded_by", "confirmed_by"]
    # Recorded through collection_record (allocated to instalments), confirmed by finance.
    allow_add = False
    guarded_fields = (
        "contract",
        "received_on",
        "amount",
        "recorded_by",
        "recorded_at",
        "confirmed_by",
        "confirmed_at",
    )
    inlines = [CollectionAllocationInline]
    actions = ["confirm"]

    @state_action(_("Confirm receipt"))
    def confirm(self, request, collection):
        services.collection_confirm(collection=collection, confirmed_by=request.user)


@admin.register(CreditOverride)
class CreditOverrideAdmin(CrmHistoryAdmin):
    # Granted through credit_override_grant; used once by the contract it let through.
    allow_add = False
    guarded_fields = ("customer", "max_amount", "approved_by", "approved_at", "used_at")

    list_display = ["customer", "max_amount", "approved_by", "approved_at", "used_at"]
    list_filter = [("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__name", "reason"]
    autocomplete_fields = ["customer", "approved_by"]


# --- Credit (read-only: requests change through their services) ------------------------------


@admin.register(CreditPolicy)
class CreditPolicyAdmin(CrmAdmin):
    """Admins set the amount above which a credit request also needs an executive."""

    list_display = ["__str__", "executive_above"]


@admin.register(CreditRequest)
class CreditRequestAdmin(AuditAdmin):
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
class PrepaymentUseAdmin(AuditAdmin):
    list_display = ["customer", "transaction", "amount", "created_at"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "transaction"]
