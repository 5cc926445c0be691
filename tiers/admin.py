from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.errors import BusinessRuleError

from . import services
from .models import (
    Appeal,
    Assessment,
    Grade,
    GradingRun,
    Indicator,
    ScoringModel,
    TierChange,
    TierPolicy,
)


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TierPolicy)
class TierPolicyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "tier",
        "visit_interval_days",
        "complaint_response_hours",
        "yearly_care_budget",
    ]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["position", "code", "name", "dimension", "weight", "source", "full_marks_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Indicators of a model that graded runs are kept; others may be removed while drafting.
        return obj is None or not obj.is_active and not obj.runs.exists()


@admin.register(ScoringModel)
class ScoringModelAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["version", "name", "is_active", "threshold_a", "threshold_b", "threshold_c"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["is_active", "activated_at", "problems"]
    inlines = [IndicatorInline]
    actions = ["activate"]

    @admin.display(description=_("Can it be activated?"))
    def problems(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "–"
        found = services.scoring_model_problems(obj)
        return " ".join(str(p) for p in found) if found else _("Yes")

    @admin.action(description=_("Activate the selected model"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one model."), messages.ERROR)
            return
        try:
            model = services.scoring_model_activate(model=queryset.get(), activated_by=request.user)
        except BusinessRuleError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("%(model)s is now active.") % {"model": model})


@admin.register(Indicator)
class IndicatorAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["code", "name", "scoring_model", "dimension", "weight", "source"]
    list_filter = ["scoring_model", "dimension", "source"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["scoring_model"]


@admin.register(Assessment)
class AssessmentAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "indicator_code", "value", "period", "assessed_at", "assessed_by"]
    list_filter = ["period", "indicator_code"]
    search_fields = ["customer__name", "indicator_code"]
    autocomplete_fields = ["customer", "assessed_by"]
    list_select_related = ["customer", "assessed_by"]


@admin.register(GradingRun)
class GradingRunAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = [
        "period",
        "status",
        "scoring_model",
        "grade_count",
        "computed_at",
        "published_at",
    ]
    list_filter = ["status"]
    search_fields = ["period"]
    readonly_fields = [f.name for f in GradingRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Grade)
class GradeAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "run", "score", "tier", "computed_tier", "movement", "incomplete"]
    list_filter = ["run", "tier", "movement", "incomplete"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "run", "overridden_by"]
    list_select_related = ["customer", "run"]
    readonly_fields = [f.name for f in Grade._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TierChange)
class TierChangeAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["customer", "old_tier", "new_tier", "kind", "changed_at", "changed_by"]
    list_filter = ["kind", "new_tier"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "grade", "changed_by"]
    list_select_related = ["customer", "changed_by"]
    show_full_result_count = False


@admin.register(Appeal)
class AppealAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["customer", "grade", "requested_tier", "status", "filed_by", "filed_at"]
    list_filter = ["status"]
    search_fields = ["customer__name", "reason"]
    autocomplete_fields = ["customer", "grade", "filed_by", "decided_by"]
    list_select_related = ["customer", "grade", "filed_by"]
