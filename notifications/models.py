from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        return self.filter(recipient=user)

    def unread(self) -> "NotificationQuerySet":
        """Not read yet, and not about work someone has done since (those are shown done)."""
        return self.filter(read_at__isnull=True, resolved_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    message = models.CharField(_("message"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Jobs pass a key such as "visit-reminder:42:2026-11-23" so that a rerun sends nothing twice.
    dedup_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    # The work a notice asks its recipient to do, as "contracts.approvalstep:42" (see
    # notifications.services.subject_key); empty for a notice that only informs.
    subject = models.CharField(_("about"), max_length=100, blank=True, default="", db_default="")
    # When that work was done, by anyone: the notice then leaves the unread count.
    resolved_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["subject"],
                condition=models.Q(resolved_at__isnull=True) & ~models.Q(subject=""),
                name="notification_open_work",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_dedup_unique"
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def actionable(self) -> bool:
        """It asks its recipient to do something (decide, confirm, review …)."""
        return bool(self.subject)

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_new(self) -> bool:
        """What the list marks "new" and the bell counts (NotificationQuerySet.unread)."""
        return self.read_at is None and self.resolved_at is None


class PendingTask(models.Model):
    """A job that could not be sent because the broker was down; re-sent by a periodic job."""

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("positional arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts to re-send"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("pending job")
        verbose_name_plural = _("pending jobs")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.created_at:%Y-%m-%d %H:%M})"
