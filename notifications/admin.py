from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "message", "created_at", "read_at"]
    list_filter = ["read_at", "created_at"]
    search_fields = ["message", "recipient__username"]
    autocomplete_fields = ["recipient"]
    date_hierarchy = "created_at"
