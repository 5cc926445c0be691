from django.contrib import admin

from .models import Notification, PendingTask


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "message", "created_at", "read_at"]
    list_filter = ["read_at", "created_at"]
    search_fields = ["message", "recipient__username"]
    autocomplete_fields = ["recipient"]
    date_hierarchy = "created_at"


@admin.register(PendingTask)
class PendingTaskAdmin(admin.ModelAdmin):
    list_display = ["task_name", "created_at", "attempts", "last_error"]
    list_filter = ["task_name"]
    search_fields = ["task_name"]
    date_hierarchy = "created_at"
