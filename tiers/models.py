"""What each tier earns (TierPolicy); scoring models and grading runs join this app later."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier


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
