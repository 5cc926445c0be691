from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    AuditAdmin,
    AuditHistoryAdmin,
    CrmHistoryAdmin,
    ReadOnlyInline,
    state_action,
)

from . import services
from .models import (
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintNote,
    FollowUp,
    ReferenceCounter,
    Status,
    TaskForceMember,
)

# The statuses an admin action may move a complaint to; the service decides whether the move
# is allowed from the current status. Confirming and reopening record the customer's verdict
# (a satisfaction score) on the complaint's page.
ACTION_STATUSES = (
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.ESCALATED,
    Status.RESOLVED,
    Status.CLOSED,
)


def _action_statuses():
    return [(status.value, status.label) for status in ACTION_STATUSES]


class EventInline(ReadOnlyInline):
    model = ComplaintEvent
    fields = ["kind", "actor", "at", "from_status", "to_status", "comment", "satisfaction"]


@admin.register(Complaint)
class ComplaintAdmin(CrmHistoryAdmin):
    list_display = ["reference", "customer", "severity", "status", "assignee", "received_at"]
    list_filter = ["status", "severity", "category", "channel"]
    search_fields = ["reference", "customer__name", "description"]
    autocomplete_fields = ["customer", "contact", "assignee", "escalated_to"]
    # A complaint is registered through complaint_create (reference, deadlines, assignee).
    allow_add = False
    guarded_fields = (
        "reference",
        "customer",
        "status",
        "assignee",
        "escalated_to",
        "received_at",
        "response_due_at",
        "resolution_due_at",
        "acknowledged_at",
        "escalated_at",
        "resolved_at",
        "confirmed_at",
        "closed_at",
        "response_breached_at",
        "resolution_breached_at",
        "satisfaction",
        "satisfaction_comment",
        "follow_up_due_on",
        "impact_eliminated_at",
        "impact_eliminated_by",
        "created_by",
    )
    date_hierarchy = "received_at"
    inlines = [EventInline]
    actions = ["transition", "eliminate_impact"]

    @state_action(_("Change the status…"), choices=_action_statuses, reason_required=False)
    def transition(self, request, complaint, choice, reason):
        services.complaint_transition(
            complaint=complaint, to_status=choice, by=request.user, comment=reason
        )

    @state_action(_("Mark the impact eliminated…"), reason=True, reason_required=False)
    def eliminate_impact(self, request, complaint, reason):
        services.complaint_impact_eliminate(complaint=complaint, by=request.user, comment=reason)


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(AuditAdmin):
    list_display = ["complaint", "kind", "from_status", "to_status", "actor", "at"]
    list_filter = ["kind", "to_status"]
    search_fields = ["complaint__reference", "comment"]


@admin.register(TaskForceMember)
class TaskForceMemberAdmin(AuditAdmin):
    list_display = ["complaint", "user", "department", "added_by", "added_at"]
    list_filter = ["department"]
    search_fields = ["complaint__reference", "user__username"]


@admin.register(ComplaintNote)
class ComplaintNoteAdmin(AuditAdmin):
    list_display = ["complaint", "author", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["complaint__reference", "text"]


@admin.register(FollowUp)
class FollowUpAdmin(AuditHistoryAdmin):
    list_display = ["complaint", "date", "by"]
    list_filter = ["date"]
    search_fields = ["complaint__reference", "note"]


@admin.register(ComplaintAttachment)
class ComplaintAttachmentAdmin(AuditAdmin):
    list_display = ["complaint", "file", "uploaded_by", "uploaded_at"]
    list_filter = ["uploaded_at"]
    search_fields = ["complaint__reference"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(AuditAdmin):
    """The reference sequence: a changed counter would hand out a used reference again."""

    list_display = ["year", "last_number"]
    list_filter = ["year"]
    search_fields = ["year"]
