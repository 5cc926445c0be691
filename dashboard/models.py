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


class CustomerMonth(models.Model):
    """A derived row's key: a month, the customers' department and the primary manager
    responsible for them in that month's facts (dashboard.history), the terms in which a head's
    or an executive's report selects them (dashboard.sales.Scope).
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

    class Meta:
        abstract = True


class MonthlySales(CustomerMonth):
    """Purchases summed per month and per the customer's department, the manager responsible
    on each transaction's date (dashboard.history) and the customer's tier.

    A derived table, rebuilt as a whole by `dashboard.summaries.refresh_summaries` (beat runs
    it every few minutes, and after a grading run is published): the reports and home pages sum
    a few thousand of these rows instead of two million transactions. Never edited by hand.
    """

    tier = models.CharField(_("tier"), max_length=1, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    profit = models.DecimalField(_("profit"), max_digits=18, decimal_places=2)
    transactions = models.PositiveIntegerField(_("transactions"))

    class Meta:
        verbose_name = _("monthly sales")
        verbose_name_plural = _("monthly sales")
        indexes = [
            models.Index(fields=["month", "department", "manager"]),
            # Sales per manager (the scorecard): read in manager order from the index alone.
            models.Index(
                fields=["manager", "month", "amount", "profit", "transactions"],
                name="sales_by_manager",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.manager_id} {self.tier}"


class RiskSignal(models.Model):
    """A customer on the early-warning list, with the facts behind it (derived table).

    Rebuilt as a whole with the sales summary by `dashboard.summaries.refresh_summaries`; the
    reasons are worded when shown, in the reader's language.
    """

    customer = models.OneToOneField(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    last = models.DecimalField(_("last 4 weeks"), max_digits=18, decimal_places=2, null=True)
    previous = models.DecimalField(
        _("previous 4 weeks"), max_digits=18, decimal_places=2, null=True
    )
    dropped_from = models.CharField(_("tier dropped from"), max_length=1, blank=True)
    dropped_to = models.CharField(_("tier dropped to"), max_length=1, blank=True)
    overdue_and_complaint = models.BooleanField(_("overdue visit and open complaint"))
    # Strongest first: the number of signals, then the size of the change in purchases.
    rank = models.FloatField(_("rank"))
    computed_on = models.DateField(_("computed on"))

    class Meta:
        verbose_name = _("risk signal")
        verbose_name_plural = _("risk signals")
        indexes = [models.Index(fields=["-rank", "customer"], name="risk_strongest_first")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.rank}"

    def facts(self) -> dict:
        """The facts in the shape dashboard.reports.risk_facts gives them."""
        facts: dict = {}
        if self.previous is not None:
            facts.update(last=self.last, previous=self.previous)
        if self.dropped_to:
            facts.update(dropped_from=self.dropped_from, dropped_to=self.dropped_to)
        if self.overdue_and_complaint:
            facts["overdue_and_complaint"] = True
        return facts


class MonthlyVisits(CustomerMonth):
    """Visit plans and visit records counted per month, per the customer's department and the
    manager responsible on the fact's date (dashboard.history), and per the account manager the
    plan counts for (that responsible manager; its holder for a pool customer) or who wrote the
    record.

    Plans count in the month they fall due (due, completed, completed by the due date); records
    count in the month of the visit (satisfaction given: its sum and number), up to the day of
    the rebuild. A derived table, rebuilt as a whole with the sales summary.
    """

    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("account manager"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,  # a plan for a customer in the pool has nobody yet
        related_name="+",
    )
    due = models.PositiveIntegerField(_("visits due"))
    done = models.PositiveIntegerField(_("completed"))
    on_time = models.PositiveIntegerField(_("completed by the due date"))
    satisfaction_sum = models.PositiveIntegerField(_("sum of satisfaction"))
    satisfaction_count = models.PositiveIntegerField(_("visits with satisfaction"))

    class Meta:
        verbose_name = _("monthly visits")
        verbose_name_plural = _("monthly visits")
        indexes = [models.Index(fields=["month", "department", "manager"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.manager_id} {self.actor_id}"


class MonthlyFeedback(models.Model):
    """Information feedback counted per local month and author, by the customer's tier at the
    time (derived table, rebuilt with the sales summary): one row per manager and month, so the
    quota report of 600 managers reads a few thousand rows as they are."""

    month = models.DateField(_("month"))
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("submitted by"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    tier_a = models.PositiveIntegerField("A")
    tier_b = models.PositiveIntegerField("B")
    tier_c = models.PositiveIntegerField("C")
    tier_d = models.PositiveIntegerField("D")
    ungraded = models.PositiveIntegerField(_("Ungraded"))

    class Meta:
        verbose_name = _("monthly feedback")
        verbose_name_plural = _("monthly feedback")
        indexes = [models.Index(fields=["month", "manager"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.manager_id}"
