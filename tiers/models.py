"""What each tier earns (TierPolicy), scoring models, assessments, grading runs and appeals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import ChildOfCustomerQuerySet, Customer, Tier

from . import scoring


class TierPolicyQuerySet(models.QuerySet):
    def for_tier(self, tier: str) -> TierPolicy | None:
        """Return the policy of a tier, or None for an ungraded customer."""
        return self.filter(tier=tier).first() if tier else None


class TierPolicy(models.Model):
    """The service level a tier earns, read by visits, complaints and care."""

    tier = models.CharField(_("tier"), max_length=1, choices=Tier, unique=True)
    visit_interval_days = models.PositiveIntegerField(
        _("visit interval (days)"), validators=[MinValueValidator(1)]
    )
    complaint_response_hours = models.PositiveIntegerField(
        _("complaint response time (hours)"), validators=[MinValueValidator(1)]
    )
    yearly_care_budget = models.DecimalField(
        _("yearly care budget"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    service_measures = models.JSONField(
        _("service measures"),
        default=list,
        blank=True,
        help_text=_("The tier's service measures, one checklist item per entry."),
    )

    objects = TierPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier policy")
        verbose_name_plural = _("tier policies")
        ordering = ["tier"]

    def __str__(self) -> str:
        return str(_("Tier %(tier)s policy") % {"tier": self.tier})

    @property
    def visit_interval(self) -> timedelta:
        return timedelta(days=self.visit_interval_days)

    @property
    def complaint_response_time(self) -> timedelta:
        return timedelta(hours=self.complaint_response_hours)


# --- Scoring models --------------------------------------------------------------------------


class ScoringModel(models.Model):
    """A versioned weighted scoring model (评分模型); exactly one is active at a time."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=False, editable=False)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    threshold_a = models.DecimalField(
        _("minimum score for tier A"), max_digits=4, decimal_places=1, default=Decimal("85")
    )
    threshold_b = models.DecimalField(
        _("minimum score for tier B"), max_digits=4, decimal_places=1, default=Decimal("70")
    )
    threshold_c = models.DecimalField(
        _("minimum score for tier C"), max_digits=4, decimal_places=1, default=Decimal("55")
    )
    label_a = models.CharField(_("label of tier A"), max_length=20, default="A")
    label_b = models.CharField(_("label of tier B"), max_length=20, default="B")
    label_c = models.CharField(_("label of tier C"), max_length=20, default="C")
    label_d = models.CharField(_("label of tier D"), max_length=20, default="D")
    notes = models.TextField(_("notes"), blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_scoring_model"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("tiers:model_detail", args=[self.pk])

    @property
    def thresholds(self) -> tuple[Decimal, Decimal, Decimal]:
        return (self.threshold_a, self.threshold_b, self.threshold_c)

    @property
    def labels(self) -> dict[str, str]:
        return {"A": self.label_a, "B": self.label_b, "C": self.label_c, "D": self.label_d}

    def spec(self, indicators=None) -> scoring.ModelSpec:
        """Return the model as plain values for tiers.scoring."""
        rows = indicators if indicators is not None else self.indicators.all()
        return scoring.ModelSpec(
            tuple(
                scoring.IndicatorSpec(
                    code=i.code,
                    weight=i.weight,
                    full_marks_at=i.full_marks_at,
                    computed=i.source == IndicatorSource.COMPUTED,
                    name=str(i.name),
                    dimension=i.dimension,
                )
                for i in rows
            ),
            self.thresholds,
        )


class Dimension(models.TextChoices):
    VALUE = "value", _("Value")
    POTENTIAL = "potential", _("Potential")
    CREDIT = "credit", _("Credit")
    LOYALTY = "loyalty", _("Loyalty")


class IndicatorSource(models.TextChoices):
    COMPUTED = "computed", _("Computed from transactions")
    ASSESSED = "assessed", _("Assessed by the manager")


# Translated names of the default model's indicators; other codes show their stored name.
INDICATOR_LABELS = {
    "annual_purchase": _("Annual purchase"),
    "purchase_frequency": _("Purchase frequency"),
    "profit_contribution": _("Profit contribution"),
    "industry_outlook": _("Industry outlook"),
    "growth_trend": _("Growth trend"),
    "expansion_potential": _("Expansion potential"),
    "credit_rating": _("Credit rating"),
    "payment_record": _("Payment record"),
    "financial_health": _("Financial health"),
    "repurchase_rate": _("Repurchase rate"),
    "recommendation": _("Recommendation"),
    "brand_recognition": _("Brand recognition"),
}


class Indicator(models.Model):
    scoring_model = models.ForeignKey(
        ScoringModel,
        verbose_name=_("scoring model"),
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    code = models.SlugField(
        _("code"),
        max_length=40,
        help_text=_(
            "Computed indicators must use a known code: annual_purchase, purchase_frequency, "
            "profit_contribution, payment_record, repurchase_rate."
        ),
    )
    name = models.CharField(_("name"), max_length=100)
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension)
    weight = models.DecimalField(
        _("weight (points of 100)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    source = models.CharField(_("source"), max_length=10, choices=IndicatorSource)
    full_marks_at = models.DecimalField(
        _("full marks at"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("The raw value that scores 100; values in between scale linearly."),
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["scoring_model", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scoring_model", "code"], name="indicator_code_unique_per_model"
            ),
            models.CheckConstraint(condition=Q(full_marks_at__gt=0), name="indicator_cap_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"

    @property
    def label(self) -> str:
        return INDICATOR_LABELS.get(self.code, self.name)

    @property
    def is_assessed(self) -> bool:
        return self.source == IndicatorSource.ASSESSED


# --- Assessments ------------------------------------------------------------------------------


class Assessment(models.Model):
    """A manager's 0–100 assessment of one indicator of one customer; rows are never edited,
    a new assessment supersedes the previous one (the history per period)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="assessments"
    )
    indicator_code = models.SlugField(_("indicator"), max_length=40)
    value = models.DecimalField(
        _("value"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    period = models.CharField(_("period"), max_length=6, db_index=True)
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0) & Q(value__lte=100), name="assessment_value_0_100"
            )
        ]
        indexes = [models.Index(fields=["customer", "indicator_code", "assessed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.indicator_code}={self.value} ({self.period})"


# --- Grading runs and grades -------------------------------------------------------------------


class RunStatus(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    UNDER_REVIEW = "under_review", _("Under review")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class GradingRun(models.Model):
    """The quarterly re-grading of every key account (季度评级) for one period."""

    period = models.CharField(_("period"), max_length=6, unique=True)
    scoring_model = models.ForeignKey(
        ScoringModel,
        verbose_name=_("scoring model"),
        on_delete=models.PROTECT,
        related_name="runs",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RunStatus, default=RunStatus.COMPUTED, db_index=True
    )
    window_start = models.DateField(_("window start"))
    window_end = models.DateField(_("window end"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("computed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Bumped by every computation: a concurrent second computation sees it changed and stops.
    computation = models.PositiveIntegerField(_("computation number"), default=0)
    grade_count = models.PositiveIntegerField(_("grades"), default=0)
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True)
    review_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("review started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    appeal_deadline = models.DateTimeField(_("appeals accepted until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grading run")
        verbose_name_plural = _("grading runs")
        ordering = ["-period"]

    def __str__(self) -> str:
        return str(_("Grading %(period)s") % {"period": self.period})

    def get_absolute_url(self) -> str:
        return reverse("tiers:run_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in (RunStatus.COMPUTED, RunStatus.UNDER_REVIEW)


class Movement(models.TextChoices):
    UP = "up", _("Moved up")
    DOWN = "down", _("Moved down")
    SAME = "same", _("Unchanged")
    NEW = "new", _("First grade")


def movement_between(previous: str, tier: str) -> str:
    if not previous:
        return Movement.NEW
    if tier == previous:
        return Movement.SAME
    return Movement.UP if tier < previous else Movement.DOWN  # "A" < "B": A is higher.


class GradeQuerySet(ChildOfCustomerQuerySet):
    pass


class Grade(models.Model):
    """One customer's grade in a run.

    The per-indicator breakdown is a JSON column ({code: [raw, normalised, weighted]}) rather
    than a GradeIndicator table: it is always read and written whole with its grade, never
    filtered on, and one row per customer instead of twelve keeps the quarterly insert of
    100,000 grades at 100,000 rows (12× fewer inserts and index entries).
    """

    run = models.ForeignKey(
        GradingRun, verbose_name=_("grading run"), on_delete=models.PROTECT, related_name="grades"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="grades"
    )
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1)
    computed_tier = models.CharField(_("computed tier"), max_length=1, choices=Tier)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier)
    previous_tier = models.CharField(_("previous tier"), max_length=1, choices=Tier, blank=True)
    movement = models.CharField(_("movement"), max_length=4, choices=Movement)
    incomplete = models.BooleanField(_("incomplete"), default=False)
    breakdown = models.JSONField(_("breakdown"), default=dict)
    override_reason = models.TextField(_("reason for the override"), blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("overridden by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    overridden_at = models.DateTimeField(_("overridden at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = GradeQuerySet.as_manager()

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["-score", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer"],
                name="one_grade_per_customer_run",
                violation_error_message=_("This run already has a grade for this customer."),
            )
        ]
        indexes = [
            # With the customer: a cell of the tier movement matrix lists its customers from the
            # index alone.
            models.Index(fields=["run", "tier", "customer"], name="grade_run_tier"),
            models.Index(fields=["run", "movement"]),
            # With the tier: the movement between two runs is counted from the index alone.
            models.Index(fields=["customer", "run", "tier"], name="grade_customer_run"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.run.period}: {self.tier} ({self.score})"

    @property
    def is_overridden(self) -> bool:
        return self.overridden_at is not None


class TierChangeKind(models.TextChoices):
    PUBLISHED = "published", _("Grading published")
    APPEAL = "appeal", _("Appeal upheld")


class TierChange(models.Model):
    """A customer's tier history: one row per change of its tier."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tier_changes"
    )
    old_tier = models.CharField(_("previous tier"), max_length=1, choices=Tier, blank=True)
    new_tier = models.CharField(_("new tier"), max_length=1, choices=Tier)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TierChangeKind)
    grade = models.ForeignKey(
        Grade,
        verbose_name=_("grade"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tier_changes",
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.old_tier or '–'} → {self.new_tier}"


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    """A manager's appeal (申诉) against a published grade; one per grade."""

    grade = models.OneToOneField(
        Grade, verbose_name=_("grade"), on_delete=models.PROTECT, related_name="appeal"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="appeals"
    )
    requested_tier = models.CharField(_("requested tier"), max_length=1, choices=Tier)
    reason = models.TextField(_("reason"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppealStatus,
        default=AppealStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    new_tier = models.CharField(_("tier granted"), max_length=1, choices=Tier, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return str(_("Appeal of %(customer)s") % {"customer": self.customer})

    def get_absolute_url(self) -> str:
        return reverse("tiers:appeal_detail", args=[self.pk])
