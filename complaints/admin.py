from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintNote,
    FollowUp,
    ReferenceCounter,
    TaskForceMember,
)


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EventInline(NoDeleteMixin, admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    readonly_fields = ["kind", "actor", "at", "from_status", "to_status", "comment", "satisfaction"]
    can_delete = False


@admin.register(Complaint)
class ComplaintAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["reference", "customer", "severity", "status", "assignee", "received_at"]
    list_filter = ["status", "severity", "category", "channel"]
    search_fields = ["reference", "customer__name", "description"]
    autocomplete_fields = ["customer", "contact", "assignee", "escalated_to"]
    readonly_fields = ["reference", "status", "response_breached_at", "resolution_breached_at"]
    date_hierarchy = "received_at"
    inlines = [EventInline]


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["complaint", "kind", "from_status", "to_status", "actor", "at"]
    list_filter = ["kind", "to_status"]
    search_fields = ["complaint__reference", "comment"]
    autocomplete_fields = ["complaint", "actor"]


@admin.register(TaskForceMember)
class TaskForceMemberAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["complaint", "user", "department", "added_by", "added_at"]
    list_filter = ["department"]
    search_fields = ["complaint__reference", "user__username"]
    autocomplete_fields = ["complaint", "user", "department", "added_by"]


@admin.register(ComplaintNote)
class ComplaintNoteAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["complaint", "author", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["complaint__reference", "text"]
    autocomplete_fields = ["complaint", "author"]


@admin.register(FollowUp)
class FollowUpAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["complaint", "date", "by"]
    list_filter = ["date"]
    search_fields = ["complaint__reference", "note"]
    autocomplete_fields = ["complaint", "by"]


@admin.register(ComplaintAttachment)
class ComplaintAttachmentAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["complaint", "file", "uploaded_by", "uploaded_at"]
    list_filter = ["uploaded_at"]
    search_fields = ["complaint__reference"]
    autocomplete_fields = ["complaint", "uploaded_by"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["year", "last_number"]
    list_filter = ["year"]
    search_fields = ["year"]
