from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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


class NoDeleteMixin:
    """Business records are never hard-deleted."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlannedVisit)
class PlannedVisitAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "due_date", "assigned_to", "status", "date_fixed"]
    list_filter = ["status", "date_fixed", "customer__tier"]
    search_fields = ["customer__name", "assigned_to__username", "assigned_to__last_name"]
    autocomplete_fields = ["customer", "assigned_to"]
    raw_id_fields = ["moved_from", "completed_by_record"]
    list_select_related = ["customer", "assigned_to"]
    date_hierarchy = "due_date"
    show_full_result_count = False


@admin.register(VisitRecord)
class VisitRecordAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "date", "kind", "purpose", "satisfaction", "recorded_by"]
    list_filter = ["kind", "satisfaction"]
    search_fields = ["customer__name", "purpose", "summary"]
    autocomplete_fields = ["customer", "participants", "contacts", "recorded_by"]
    list_select_related = ["customer", "recorded_by"]
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["name", "date", "is_active"]
    list_filter = ["is_active", "name"]
    search_fields = ["name"]
    list_editable = ["date", "is_active"]


@admin.register(CareTask)
class CareTaskAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "kind", "due_date", "assigned_to", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["customer__name", "contact__name"]
    autocomplete_fields = ["customer", "contact", "assigned_to", "done_by", "holiday"]
    list_select_related = ["customer", "assigned_to"]
    show_full_result_count = False


@admin.register(CareExpense)
class CareExpenseAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "date", "kind", "description", "cost", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "description"]
    autocomplete_fields = ["customer", "recorded_by"]
    raw_id_fields = ["care_task"]
    list_select_related = ["customer", "recorded_by"]


@admin.register(InformationFeedback)
class InformationFeedbackAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "category", "customer_tier", "submitted_by", "submitted_at"]
    list_filter = ["category", "customer_tier"]
    search_fields = ["customer__name", "content"]
    autocomplete_fields = ["customer", "submitted_by"]
    list_select_related = ["customer", "submitted_by"]


@admin.register(ArchiveCheck)
class ArchiveCheckAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "verified_by", "verified_at"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "verified_by"]
    list_select_related = ["customer", "verified_by"]


@admin.register(VisitReminder)
class VisitReminderAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["planned_visit", "day", "recipient", "sent_at"]
    list_filter = ["day"]
    search_fields = ["planned_visit__customer__name"]
    raw_id_fields = ["planned_visit"]
    autocomplete_fields = ["recipient"]
    show_full_result_count = False
