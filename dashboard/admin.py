from django.contrib import admin

from accounts.admin_base import AuditAdmin

from .models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(AuditAdmin):
    list_display = ["name", "beat_at"]
    search_fields = ["name"]
