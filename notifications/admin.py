from django.contrib import admin

from accounts.admin_base import AuditAdmin

from .models import Notification, PendingTask


@admin.register(Notification)
class NotificationAdmin(AuditAdmin):
    """What was sent to whom: read here, marked read by its recipient only."""

    list_display = ["recipient", "message", "created_at", "read_at"]
    list_filter = ["read_at", "created_at"]
    search_fields = ["message", "recipient__username"]
    date_hierarchy = "created_at"


@admin.register(PendingTask)
class PendingTaskAdmin(AuditAdmin):
    """Jobs kept while the broker was down; resend_pending_tasks sends them."""

    list_display = ["task_name", "created_at", "attempts", "last_error"]
    list_filter = ["task_name"]
    search_fields = ["task_name"]
    date_hierarchy = "created_at"
