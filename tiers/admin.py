from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    AuditAdmin,
    AuditHistoryAdmin,
    CrmAdmin,
    CrmHistoryAdmin,
    CrmInline,
    state_action,
)
from accounts.errors import BusinessRuleError
from accounts.models import Tier

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


@admin.register(TierPolicy)
class TierPolicyAdmin(CrmAdmin):
    list_display = [
        "tier",
        "visit_interval_days",
        "complaint_response_hours",
        "yearly_care_budget",
    ]


class IndicatorInline(CrmInline):
    model = Indicator
    fields = ["position", "code", "name", "dimension", "weight", "source", "full_marks_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Indicators of a model that graded runs are kept; others may be removed while drafting.
        return obj is None or not obj.is_active and not obj.runs.exists()


@admin.register(ScoringModel)
class ScoringModelAdmin(CrmHistoryAdmin):
    list_display = ["version", "name", "is_active", "threshold_a", "threshold_b", "threshold_c"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    guarded_fields = ("is_active", "activated_at")
    readonly_fields = ["problems"]
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
class IndicatorAdmin(CrmHistoryAdmin):
    list_display = ["code", "name", "scoring_model", "dimension", "weight", "source"]
    list_filter = ["scoring_model", "dimension", "source"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["scoring_model"]


@admin.register(Assessment)
class AssessmentAdmin(AuditAdmin):
    """Assessments are recorded through assessments_record, with who and when."""

    list_display = ["customer", "indicator_code", "value", "period", "assessed_at", "assessed_by"]
    list_filter = ["period", "indicator_code"]
    search_fields = ["customer__name", "indicator_code"]
    list_select_related = ["customer", "assessed_by"]


@admin.register(GradingRun)
class GradingRunAdmin(AuditHistoryAdmin):
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
    actions = ["start_review", "publish", "close"]

    @state_action(_("Start the review"))
    def start_review(self, request, run):
        services.grading_run_start_review(run=run, started_by=request.user)

    @state_action(_("Publish the tiers"))
    def publish(self, request, run):
        services.grading_run_publish(run=run, published_by=request.user)

    @state_action(_("Close the run"))
    def close(self, request, run):
        services.grading_run_close(run=run, closed_by=request.user)


@admin.register(Grade)
class GradeAdmin(AuditHistoryAdmin):
    list_display = ["customer", "run", "score", "tier", "computed_tier", "movement", "incomplete"]
    list_filter = ["run", "tier", "movement", "incomplete"]
    search_fields = ["customer__name"]
    autocomplete_fields = ["customer", "run", "overridden_by"]
    list_select_related = ["customer", "run"]
    show_full_result_count = False
    actions = ["override"]

    @state_action(
        _("Override the tier…"),
        choices=lambda: list(Tier.choices),
        choice_label=_("Tier"),
    )
    def override(self, request, grade, choice, reason):
        services.grade_override(grade=grade, tier=choice, reason=reason, overridden_by=request.user)


@admin.register(TierChange)
class TierChangeAdmin(AuditAdmin):
    list_display = ["customer", "old_tier", "new_tier", "kind", "changed_at", "changed_by"]
    list_filter = ["kind", "new_tier"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "changed_by"]
    show_full_result_count = False


@admin.register(Appeal)
class AppealAdmin(AuditHistoryAdmin):
    list_display = ["customer", "grade", "requested_tier", "status", "filed_by", "filed_at"]
    list_filter = ["status"]
    search_fields = ["customer__name", "reason"]
    list_select_related = ["customer", "grade", "filed_by"]
    actions = ["uphold", "reject"]

    @state_action(_("Uphold the appeal…"), reason=True)
    def uphold(self, request, appeal, reason):
        services.appeal_decide(appeal=appeal, decided_by=request.user, uphold=True, comment=reason)

    @state_action(_("Reject the appeal…"), reason=True)
    def reject(self, request, appeal, reason):
        services.appeal_decide(appeal=appeal, decided_by=request.user, uphold=False, comment=reason)
