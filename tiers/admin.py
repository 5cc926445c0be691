from django.contrib import admin

from .models import TierPolicy


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "tier",
        "visit_interval_days",
        "complaint_response_hours",
        "yearly_care_budget",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
