"""Complaints (客户投诉): intake, workflow, deadlines, task force, follow-up and confirmation."""

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

from accounts.models import Contact, Customer, Department, FastChoiceDisplayMixin


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    ONLINE = "online", _("Online")


class Category(models.TextChoices):
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    DELIVERY = "delivery", _("Delivery")
    SERVICE = "service", _("Service")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("complaint status", "New")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("complaint status", "Acknowledged")
    IN_PROGRESS = "in_progress", pgettext_lazy("complaint status", "In progress")
    ESCALATED = "escalated", pgettext_lazy("complaint status", "Escalated")
    RESOLVED = "resolved", pgettext_lazy("complaint status", "Resolved")
    REOPENED = "reopened", pgettext_lazy("complaint status", "Reopened")
    CONFIRMED = "confirmed", pgettext_lazy("complaint status", "Confirmed")
    CLOSED = "closed", pgettext_lazy("complaint status", "Closed")


# Statuses in which the complaint still waits for a resolution.
UNRESOLVED_STATUSES = (
    Status.NEW,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.ESCALATED,
    Status.REOPENED,
)
# Statuses in which follow-up entries are due until the impact is marked eliminated.
FOLLOW_UP_STATUSES = (Status.RESOLVED, Status.CONFIRMED, Status.CLOSED)


class ReferenceCounter(models.Model):
    """The last reference number of a year, incremented inside the creating transaction."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class ComplaintQuerySet(models.QuerySet):
    def visible_to(self, user) -> ComplaintQuerySet:
        """Return the complaints of customers this user may see, and those of their task forces."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from accounts import permissions

        if permissions.sees_everything(user):
            return self
        task_force = TaskForceMember.objects.filter(user=user)
        if user.department_id:
            task_force = TaskForceMember.objects.filter(
                Q(user=user) | Q(department_id=user.department_id)
            )
        return self.filter(
            Q(customer__in=Customer.objects.visible_to(user).values("pk"))
            | Q(assignee=user)
            | Q(pk__in=task_force.values("complaint_id"))
        )

    def unresolved(self) -> ComplaintQuerySet:
        return self.filter(status__in=UNRESOLVED_STATUSES)

    def breached(self) -> ComplaintQuerySet:
        return self.filter(
            Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
        )

    def follow_up_due(self, day) -> ComplaintQuerySet:
        return self.filter(
            follow_up_due_on__lte=day,
            impact_eliminated_at__isnull=True,
            status__in=FOLLOW_UP_STATUSES,
        )


class Complaint(FastChoiceDisplayMixin, models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="complaints"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    category = models.CharField(_("category"), max_length=20, choices=Category)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    description = models.TextField(_("description"))
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(
        _("status"), max_length=15, choices=Status, default=Status.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_complaints",
    )
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_complaints",
    )
    # Deadlines, computed at intake (see complaints/deadlines.py).
    response_due_at = models.DateTimeField(_("response due at"))
    resolution_due_at = models.DateTimeField(_("resolution due at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Set once, by the deadline job or by a late transition.
    response_breached_at = models.DateTimeField(
        _("response deadline missed at"), null=True, blank=True
    )
    resolution_breached_at = models.DateTimeField(
        _("resolution deadline missed at"), null=True, blank=True
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    satisfaction_comment = models.TextField(_("customer's comment"), blank=True)
    follow_up_due_on = models.DateField(_("next follow-up due on"), null=True, blank=True)
    impact_eliminated_at = models.DateTimeField(_("impact eliminated at"), null=True, blank=True)
    impact_eliminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("impact marked eliminated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="complaint_satisfaction_1_to_5",
            ),
        ]
        indexes = [
            # The list's order: newest first, without sorting the table per page.
            models.Index(fields=["-received_at", "-id"], name="complaint_newest_first"),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["customer", "received_at"]),
            models.Index(fields=["status", "response_due_at"]),
            models.Index(fields=["status", "resolution_due_at"]),
            models.Index(fields=["follow_up_due_on"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("complaints:detail", args=[self.pk])

    @property
    def is_breached(self) -> bool:
        return bool(self.response_breached_at or self.resolution_breached_at)

    @property
    def current_due_at(self):
        """The deadline that matters now: the response while new, then the resolution."""
        if self.status == Status.NEW:
            return self.response_due_at
        if self.status in UNRESOLVED_STATUSES:
            return self.resolution_due_at
        return None

    @property
    def current_due_label(self) -> str:
        if self.status == Status.NEW:
            return _("Response")
        return _("Resolution")


def attachment_upload_to(instance: ComplaintAttachment, filename: str) -> str:
    return f"complaints/{instance.complaint_id}/{timezone.now():%Y%m}/{filename}"


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]


class EventKind(models.TextChoices):
    TRANSITION = "transition", _("Status change")
    BREACH = "breach", _("Deadline missed")
    ASSIGNMENT = "assignment", _("Reassignment")


class ComplaintEvent(models.Model):
    """One step of a complaint's timeline: who, when, from which status to which, and why."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(
        _("kind"), max_length=15, choices=EventKind, default=EventKind.TRANSITION
    )
    # Empty for the deadline job.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=15, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=15, choices=Status)
    comment = models.TextField(_("comment"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"])]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status} → {self.to_status}"


class TaskForceMember(models.Model):
    """A person or a whole department added to an A-tier complaint (多部门协同)."""

    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="task_force",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaint_task_forces",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaint_task_forces",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("task force member")
        verbose_name_plural = _("task force members")
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, department__isnull=True)
                | Q(user__isnull=True, department__isnull=False),
                name="task_force_user_xor_department",
            ),
            models.UniqueConstraint(
                fields=["complaint", "user"],
                condition=Q(user__isnull=False),
                name="task_force_user_once",
            ),
            models.UniqueConstraint(
                fields=["complaint", "department"],
                condition=Q(department__isnull=False),
                name="task_force_department_once",
            ),
        ]
        indexes = [models.Index(fields=["user"]), models.Index(fields=["department"])]

    def __str__(self) -> str:
        return str(self.user or self.department)


class ComplaintNote(models.Model):
    """An entry in the complaint's log by a handler or a task force member."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    text = models.TextField(_("entry"))

    class Meta:
        verbose_name = _("complaint entry")
        verbose_name_plural = _("complaint entries")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:50]


class FollowUp(models.Model):
    """A monthly follow-up (回访) after resolution, until the impact is marked eliminated."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    date = models.DateField(_("date"))
    note = models.TextField(_("note"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.date}"
