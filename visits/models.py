"""Visits: tier-driven plans, visit records (拜访记录), care, feedback (客户信息反馈), archive
checks."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.models import ChildOfCustomerQuerySet, Contact, Customer


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    MOVED = "moved", _("Moved")


class PlannedVisitQuerySet(ChildOfCustomerQuerySet):
    def open(self) -> PlannedVisitQuerySet:
        return self.filter(status=VisitStatus.PLANNED)

    def overdue(self, today) -> PlannedVisitQuerySet:
        return self.open().filter(due_date__lt=today)


class PlannedVisit(models.Model):
    """A visit the tier's rhythm asks for. At most one open (planned) visit per customer."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="planned_visits",
    )
    due_date = models.DateField(_("due date"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="planned_visits",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus, default=VisitStatus.PLANNED
    )
    # A date chosen by a person (moved, or the next date given on a record) is kept when the
    # plan is regenerated; a computed one follows the tier's interval.
    date_fixed = models.BooleanField(_("date set by hand"), default=False)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    moved_from = models.ForeignKey(
        "self",
        verbose_name=_("moved from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_by_record = models.ForeignKey(
        "VisitRecord",
        verbose_name=_("completed by record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="completed_plans",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()
    objects = PlannedVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="planned"),
                name="one_open_planned_visit_per_customer",
                violation_error_message=_("This customer already has an open planned visit."),
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["customer", "status", "due_date"]),
            # Also plan execution per manager over a date range (reports): from the index alone,
            # except the completing record's date.
            models.Index(
                fields=["assigned_to", "status", "due_date", "completed_by_record"],
                name="plan_execution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.due_date}"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status == VisitStatus.PLANNED and self.due_date < today


class VisitKind(models.TextChoices):
    ON_SITE = "on_site", _("On-site")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")
    EVENT = "event", _("Event")


class VisitRecord(models.Model):
    """What happened at a visit (拜访记录)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="visit_records",
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=VisitKind, default=VisitKind.ON_SITE)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff participants"),
        related_name="visit_records",
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts met"), blank=True, related_name="visit_records"
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    summary = models.TextField(_("summary"))
    customer_needs = models.TextField(_("customer needs"), blank=True)
    competitor_info = models.TextField(_("competitor information"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    next_visit_date = models.DateField(_("next visit date"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords(m2m_fields=[participants])
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit record")
        verbose_name_plural = _("visit records")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="visit_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(next_visit_date__isnull=True) | Q(next_visit_date__gt=models.F("date")),
                name="visit_next_date_after_date",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "date"]),
            # Visit satisfaction per manager over a date range (reports), from the index alone.
            models.Index(
                fields=["date", "recorded_by", "satisfaction"], name="record_satisfaction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.date} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("visits:record_detail", args=[self.pk])


# --- Care ------------------------------------------------------------------------------------


class Holiday(models.Model):
    """A holiday greeting date; data, edited in the admin (dates move with the lunar calendar)."""

    name = models.CharField(_("name"), max_length=50)
    date = models.DateField(_("date"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["name", "date"], name="holiday_name_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.date}"


class CareKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday greeting")
    BIRTHDAY = "birthday", _("Birthday greeting")


class CareStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("care task", "Open")
    DONE = "done", _("Done")


class CareTask(models.Model):
    """A greeting to send a week ahead: a holiday for A/B customers, an A-tier decision maker's
    birthday."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="care_tasks"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CareKind)
    holiday = models.ForeignKey(
        Holiday, verbose_name=_("holiday"), on_delete=models.PROTECT, null=True, blank=True
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.PROTECT, null=True, blank=True
    )
    due_date = models.DateField(_("date of the occasion"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_tasks",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CareStatus, default=CareStatus.OPEN
    )
    # "holiday:<holiday>:<customer>" or "birthday:<contact>:<year>": generating twice adds nothing.
    key = models.CharField(_("key"), max_length=100, unique=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("care task")
        verbose_name_plural = _("care tasks")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["assigned_to", "status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.customer} {self.due_date}"


class CareExpenseKind(models.TextChoices):
    GIFT = "gift", _("Gift")
    EVENT = "event", _("Event")


class CareExpense(models.Model):
    """A gift or event for a customer, counted against the tier's yearly care budget."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="care_expenses",
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=CareExpenseKind)
    description = models.CharField(_("description"), max_length=200)
    cost = models.DecimalField(
        _("cost"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    care_task = models.ForeignKey(
        CareTask,
        verbose_name=_("care task"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenses",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("care expense")
        verbose_name_plural = _("care expenses")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__gte=0),
                name="care_expense_cost_not_negative",
                violation_error_message=_("The cost cannot be negative."),
            )
        ]
        indexes = [models.Index(fields=["customer", "date"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.date} {self.cost}"


# --- Information feedback (客户信息反馈) ------------------------------------------------------


class FeedbackCategory(models.TextChoices):
    NEEDS = "needs", _("Customer needs")
    COMPETITORS = "competitors", _("Competitors")
    MARKET = "market", _("Market")
    RISK = "risk", _("Risk")


class InformationFeedback(models.Model):
    """Information a manager brings back about a customer (客户信息反馈)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="feedback"
    )
    category = models.CharField(_("category"), max_length=15, choices=FeedbackCategory)
    content = models.TextField(_("content"))
    # The customer's tier when filed: the monthly quota counts feedback by tier.
    customer_tier = models.CharField(_("customer tier"), max_length=1, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="information_feedback",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("information feedback")
        verbose_name_plural = _("information feedback")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["submitted_by", "submitted_at"]),
            models.Index(fields=["customer", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_category_display()}"


# --- Quarterly archive check -----------------------------------------------------------------


class ArchiveCheck(models.Model):
    """A manager's confirmation that a customer's archive is correct (quarterly)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="archive_checks",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("archive check")
        verbose_name_plural = _("archive checks")
        ordering = ["-verified_at", "-id"]
        indexes = [models.Index(fields=["customer", "verified_at"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.verified_at:%Y-%m-%d}"


class VisitReminder(models.Model):
    """That a planned visit was reminded on a day: the reminder job sends each one once a day."""

    planned_visit = models.ForeignKey(
        PlannedVisit,
        verbose_name=_("planned visit"),
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    day = models.DateField(_("day"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("visit reminder")
        verbose_name_plural = _("visit reminders")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "planned_visit"], name="one_visit_reminder_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.planned_visit_id} {self.day}"
