from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a periodic job last ran on a worker: proof that beat's schedule reaches the workers."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class MonthlySales(models.Model):
    """Purchases summed per month and per the customer's department, primary manager and tier.

    A derived table, rebuilt as a whole by `dashboard.sales.refresh_sales_summary` (beat runs it
    every few minutes, and after a grading run is published): the reports and home pages sum a
    few thousand of these rows instead of two million transactions. Never edited by hand.
    """

    month = models.DateField(_("month"))
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("primary manager"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    tier = models.CharField(_("tier"), max_length=1, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    profit = models.DecimalField(_("profit"), max_digits=18, decimal_places=2)
    transactions = models.PositiveIntegerField(_("transactions"))

    class Meta:
        verbose_name = _("monthly sales")
        verbose_name_plural = _("monthly sales")
        indexes = [models.Index(fields=["month", "department", "manager"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.manager_id} {self.tier}"
