from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AuditAdmin, CrmAdmin, CrmHistoryAdmin, state_action

from . import services
from .models import (
    ArchiveCheck,
    CareExpense,
    CareTask,
    Holiday,
    InformationFeedback,
    PlannedVisit,
    VisitRecord,
    VisitReminder,
)


@admin.register(PlannedVisit)
class PlannedVisitAdmin(CrmHistoryAdmin):
    # Plans are generated from the tier's interval, moved or cancelled with a reason, and
    # completed by a visit record: all through the services.
    allow_add = False
    guarded_fields = (
        "customer",
        "due_date",
        "assigned_to",
        "status",
        "date_fixed",
        "reason",
        "moved_from",
        "completed_by_record",
        "closed_by",
        "closed_at",
    )
    actions = ["cancel"]

    @state_action(_("Cancel the visit…"), reason=True)
    def cancel(self, request, visit, reason):
        services.planned_visit_cancel(visit=visit, reason=reason, cancelled_by=request.user)

    list_display = ["customer", "due_date", "assigned_to", "status", "date_fixed"]
    list_filter = ["status", "date_fixed", "customer__tier"]
    search_fields = ["customer__name", "assigned_to__username", "assigned_to__last_name"]
    autocomplete_fields = ["customer", "assigned_to"]
    raw_id_fields = ["moved_from", "completed_by_record"]
    list_select_related = ["customer", "assigned_to"]
    date_hierarchy = "due_date"
    show_full_result_count = False


@admin.register(VisitRecord)
class VisitRecordAdmin(CrmHistoryAdmin):
    allow_add = False
    guarded_fields = ("customer", "date", "recorded_by")

    list_display = ["customer", "date", "kind", "purpose", "satisfaction", "recorded_by"]
    list_filter = ["kind", "satisfaction"]
    search_fields = ["customer__name", "purpose", "summary"]
    autocomplete_fields = ["customer", "participants", "contacts", "recorded_by"]
    list_select_related = ["customer", "recorded_by"]
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(Holiday)
class HolidayAdmin(CrmAdmin):
    list_display = ["name", "date", "is_active"]
    list_filter = ["is_active", "name"]
    search_fields = ["name"]
    list_editable = ["date", "is_active"]


@admin.register(CareTask)
class CareTaskAdmin(CrmHistoryAdmin):
    allow_add = False
    guarded_fields = ("customer", "assigned_to", "status", "key", "done_by", "done_at")
    actions = ["mark_done"]

    @state_action(_("Mark done…"), reason=True, reason_required=False)
    def mark_done(self, request, task, reason):
        services.care_task_done(task=task, done_by=request.user, note=reason)

    list_display = ["customer", "kind", "due_date", "assigned_to", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["customer__name", "contact__name"]
    autocomplete_fields = ["customer", "contact", "assigned_to", "done_by", "holiday"]
    list_select_related = ["customer", "assigned_to"]
    show_full_result_count = False


@admin.register(CareExpense)
class CareExpenseAdmin(CrmHistoryAdmin):
    # Recorded through care_expense_add, which checks the tier's yearly budget.
    allow_add = False
    guarded_fields = ("customer", "cost", "care_task", "recorded_by")

    list_display = ["customer", "date", "kind", "description", "cost", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "description"]
    autocomplete_fields = ["customer", "recorded_by"]
    raw_id_fields = ["care_task"]
    list_select_related = ["customer", "recorded_by"]


@admin.register(InformationFeedback)
class InformationFeedbackAdmin(CrmHistoryAdmin):
    allow_add = False
    guarded_fields = ("customer", "customer_tier", "submitted_by", "submitted_at")

    list_display = ["customer", "category", "customer_tier", "submitted_by", "submitted_at"]
    list_filter = ["category", "customer_tier"]
    search_fields = ["customer__name", "content"]
    autocomplete_fields = ["customer", "submitted_by"]
    list_select_related = ["customer", "submitted_by"]


@admin.register(ArchiveCheck)
class ArchiveCheckAdmin(AuditAdmin):
    list_display = ["customer", "verified_by", "verified_at"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "verified_by"]


@admin.register(VisitReminder)
class VisitReminderAdmin(AuditAdmin):
    list_display = ["planned_visit", "day", "recipient", "sent_at"]
    list_filter = ["day"]
    search_fields = ["planned_visit__customer__name"]
    show_full_result_count = False
