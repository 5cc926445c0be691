"""Contracts: drafting, multi-step approval, signing, filing (备案) and expiry."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts import permissions
from accounts.models import CreditTerms, Customer, Department, FastChoiceDisplayMixin

from .rules import RuleCondition, parse_tiers


class ContractStatus(models.TextChoices):
    # Context: the customer statuses use the same English words with other Chinese terms.
    DRAFT = "draft", pgettext_lazy("contract status", "Draft")
    PENDING = "pending", pgettext_lazy("contract status", "Pending approval")
    APPROVED = "approved", pgettext_lazy("contract status", "Approved")
    SIGNED = "signed", pgettext_lazy("contract status", "Signed")
    ACTIVE = "active", pgettext_lazy("contract status", "Active")
    EXPIRED = "expired", pgettext_lazy("contract status", "Expired")
    TERMINATED = "terminated", pgettext_lazy("contract status", "Terminated")


class DeciderRole(models.TextChoices):
    DEPARTMENT_HEAD = "department_head", _("Head of the contract's department")
    FINANCE = "finance", _("Finance")
    EXECUTIVE = "executive", _("Executive")


class ContractNumberCounter(models.Model):
    """The last contract number given out in a year; bumped inside the creating transaction."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    value = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("contract number counter")
        verbose_name_plural = _("contract number counters")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class ApprovalRule(models.Model):
    """An approval step a contract needs when its condition holds (evaluated on submission)."""

    order = models.PositiveSmallIntegerField(
        _("order"), help_text=_("Steps are taken in ascending order.")
    )
    name = models.CharField(_("name"), max_length=100)
    decider_role = models.CharField(_("decided by"), max_length=20, choices=DeciderRole)
    always = models.BooleanField(
        _("always"), default=False, help_text=_("Every contract needs this step.")
    )
    min_amount = models.DecimalField(
        _("from amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Applies when the amount is at least this much (CNY)."),
    )
    min_discount = models.DecimalField(
        _("from discount %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Applies when the discount is at least this percentage."),
    )
    customer_tiers = models.CharField(
        _("customer tiers"),
        max_length=20,
        blank=True,
        help_text=_("Applies to customers of these tiers, e.g. “A” or “A, B”."),
    )
    # Credit customers whose open receivables plus this contract pass their
    # credit limit need this step (evaluated on submission).
    over_credit_limit = models.BooleanField(
        _("over the credit limit"),
        default=False,
        help_text=_(
            "Applies when a credit customer's open receivables plus the contract amount exceed "
            "the customer's credit limit."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def as_condition(self) -> RuleCondition:
        return RuleCondition(
            order=self.order,
            decider_role=self.decider_role,
            always=self.always,
            min_amount=self.min_amount,
            min_discount=self.min_discount,
            customer_tiers=parse_tiers(self.customer_tiers),
            over_credit_limit=self.over_credit_limit,
            name=self.name,
            rule_id=self.pk,
        )


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user) -> ContractQuerySet:
        """Return the contracts of customers this user may see, and the user's own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if permissions.sees_everything(user):
            return self
        return self.filter(
            Q(customer__in=Customer.objects.visible_to(user).values("pk")) | Q(owner=user)
        )


def contract_upload_to(instance: Contract, filename: str) -> str:
    return f"contracts/{timezone.localdate():%Y/%m}/{filename}"


class Contract(FastChoiceDisplayMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="contracts",
        help_text=_("The customer's department when the contract was drafted."),
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    payment_terms = models.TextField(_("payment terms"), blank=True)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ContractStatus,
        default=ContractStatus.DRAFT,
        db_index=True,
    )
    text_document = models.FileField(
        _("contract text"), upload_to=contract_upload_to, blank=True, max_length=255
    )
    rejection_comment = models.TextField(_("last rejection"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    signed_scan = models.FileField(
        _("signed scan"), upload_to=contract_upload_to, blank=True, max_length=255
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked signed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # 备案: A-tier customers' contracts are filed before they take effect.
    filed_on = models.DateField(_("filed on (备案)"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    filing_reference = models.CharField(_("filing reference"), max_length=50, blank=True)
    activated_at = models.DateTimeField(_("in force since"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)
    terminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("terminated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    terminated_reason = models.TextField(_("reason for termination"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="contract_amount_positive",
                violation_error_message=_("The amount must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")),
                name="contract_end_after_start",
                violation_error_message=_("The end date must be after the start date."),
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="contract_discount_0_100",
                violation_error_message=_("The discount must be between 0 and 100 %."),
            ),
        ]
        indexes = [
            # The list's order: newest first, without sorting the table per page.
            models.Index(fields=["-created_at", "-id"], name="contract_newest_first"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["customer", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    @property
    def needs_filing(self) -> bool:
        """A-tier customers' contracts must be filed (备案) before they take effect."""
        return self.customer.tier == "A"


class RoundOutcome(models.TextChoices):
    PENDING = "pending", _("In progress")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ApprovalRound(models.Model):
    """One submission of a contract for approval; a rejection ends the round."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="rounds"
    )
    number = models.PositiveSmallIntegerField(_("round"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    # What was submitted, so earlier rounds stay readable after the draft is edited.
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2)
    customer_tier = models.CharField(_("customer tier"), max_length=1, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=RoundOutcome, default=RoundOutcome.PENDING
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval round")
        verbose_name_plural = _("approval rounds")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="one_round_number"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(outcome="pending"),
                name="one_open_round_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} #{self.number}"


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an earlier step")
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Not needed (round rejected)")


class ApprovalStepQuerySet(models.QuerySet):
    def waiting_for(self, user) -> ApprovalStepQuerySet:
        """Return the current steps this user may decide (never on their own contracts)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = Q(pk__in=[])
        if permissions.is_finance(user):
            scope |= Q(decider_role=DeciderRole.FINANCE)
        if permissions.is_executive(user):
            scope |= Q(decider_role=DeciderRole.EXECUTIVE)
        if permissions.is_department_head(user):
            scope |= Q(
                decider_role=DeciderRole.DEPARTMENT_HEAD,
                department__in=permissions.headed_department_ids(user),
            )
        return self.filter(scope, status=StepStatus.PENDING).exclude(contract__owner=user)


class ApprovalStep(models.Model):
    """One decision a round needs, materialised from the rules when the contract is submitted."""

    round = models.ForeignKey(
        ApprovalRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="steps"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("step"))
    rule = models.ForeignKey(
        ApprovalRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=100)
    decider_role = models.CharField(_("decided by"), max_length=20, choices=DeciderRole)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For a head's step: the department whose head decides."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus, default=StepStatus.WAITING
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
    comment = models.TextField(_("comment"), blank=True)

    objects = ApprovalStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["round", "order"], name="one_step_per_order"),
            # step_decide opens the next step only after closing this one: one decision at a
            # time in a round, whatever path wrote the rows.
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(status="pending"),
                name="one_pending_step_per_round",
                violation_error_message=_("This round already has a step awaiting a decision."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["approved", "rejected"], decided_at__isnull=False)
                | (~Q(status__in=["approved", "rejected"]) & Q(decided_at__isnull=True)),
                name="approval_step_decided_when_decided",
                violation_error_message=_("A decided step records when it was decided."),
            ),
        ]
        indexes = [models.Index(fields=["status", "decider_role", "department"])]

    def __str__(self) -> str:
        return f"{self.contract.number} #{self.round.number}.{self.order} {self.name}"

    @property
    def is_decided(self) -> bool:
        return self.status in (StepStatus.APPROVED, StepStatus.REJECTED)


# --- Receivables (回款): payment plans, collections and their allocation ---------------------


class InstalmentState(models.TextChoices):
    """Computed from the facts (due date, confirmed collections, today); never stored."""

    OPEN = "open", _("Not yet due")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    OVERDUE = "overdue", _("Overdue")
    PAID = "paid", _("Paid")


class AgeingBucket(models.TextChoices):
    """Days overdue. Due today is not overdue, so the first bucket starts at day 1."""

    DAYS_0_30 = "0-30", _("0–30 days")
    DAYS_31_60 = "31-60", _("31–60 days")
    DAYS_61_90 = "61-90", _("61–90 days")
    DAYS_90_PLUS = "90+", _("Over 90 days")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill (承兑汇票)")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class PaymentInstalmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> PaymentInstalmentQuerySet:
        """Return the instalments of contracts this user may see."""
        return self.filter(contract__in=Contract.objects.visible_to(user).values("pk"))

    def with_facts(self, today=None) -> PaymentInstalmentQuerySet:
        """Annotate paid amount, open amount, paid_on, state, days overdue bucket — in SQL."""
        from .selectors import annotate_instalment_facts

        return annotate_instalment_facts(self, today=today)


class PaymentInstalment(models.Model):
    """One instalment of a contract's payment plan (付款计划)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="instalments"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()
    objects = PaymentInstalmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment instalment")
        verbose_name_plural = _("payment instalments")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="one_instalment_number"),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="instalment_amount_positive",
                violation_error_message=_("An instalment must be more than zero."),
            ),
        ]
        indexes = [models.Index(fields=["due_date"])]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return self.contract.get_absolute_url() + "#receivables"

    @property
    def code(self) -> str:
        """The reference a delivery transaction of this instalment carries (HT-2026-0001/2)."""
        return f"{self.contract.number}/{self.sequence}"


class CollectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> CollectionQuerySet:
        return self.filter(contract__in=Contract.objects.visible_to(user).values("pk"))


class Collection(models.Model):
    """A payment received (回款) on a contract; it counts once finance confirms it."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="collections"
    )
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(_("bank reference"), max_length=50, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by (finance)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = CollectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="collection_amount_positive",
                violation_error_message=_("The amount must be more than zero."),
            ),
        ]
        indexes = [models.Index(fields=["confirmed_at"])]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.received_on} {self.amount}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class CollectionAllocation(models.Model):
    """Which instalments a collection pays, and how much of each (earliest due first)."""

    collection = models.ForeignKey(
        Collection,
        verbose_name=_("collection"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    instalment = models.ForeignKey(
        PaymentInstalment,
        verbose_name=_("instalment"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("collection allocation")
        verbose_name_plural = _("collection allocations")
        ordering = ["collection", "instalment"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "instalment"], name="one_allocation_per_instalment"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.collection_id} → {self.instalment_id}: {self.amount}"


class CreditOverrideQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditOverrideQuerySet:
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


class CreditOverride(models.Model):
    """Finance lets one transaction take a credit customer over the credit limit."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="credit_overrides",
    )
    max_amount = models.DecimalField(
        _("up to amount (CNY)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    reason = models.TextField(_("reason"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by (finance)"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = CreditOverrideQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit limit override")
        verbose_name_plural = _("credit limit overrides")
        ordering = ["-approved_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_amount__gt=0),
                name="credit_override_amount_positive",
                violation_error_message=_("The amount must be more than zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ≤ {self.max_amount}"


# --- Credit (信用): credit requests, the policy behind them, prepayments used by deliveries ---


class CreditPolicy(models.Model):
    """The credit rules an admin may change; the first row is in force."""

    executive_above = models.DecimalField(
        _("executive approval above (CNY)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("5000000"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("A credit request for a new limit above this amount also needs an executive."),
    )

    class Meta:
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")

    def __str__(self) -> str:
        return str(_("Credit policy"))

    @classmethod
    def current(cls) -> CreditPolicy:
        return cls.objects.order_by("pk").first() or cls()


class CreditRequestStatus(models.TextChoices):
    PENDING_FINANCE = "pending_finance", pgettext_lazy("credit request", "Awaiting finance")
    PENDING_EXECUTIVE = "pending_executive", _("Awaiting the executive")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


CREDIT_REQUEST_OPEN = (CreditRequestStatus.PENDING_FINANCE, CreditRequestStatus.PENDING_EXECUTIVE)


class CreditRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditRequestQuerySet:
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


def _money(verbose_name):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, null=True, blank=True)


class CreditRequest(models.Model):
    """A proposed change of a customer's credit terms and limit (信用申请), decided by finance
    and, above the policy's amount, an executive. Each step keeps the exposure it saw."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="credit_requests",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CreditRequestStatus,
        default=CreditRequestStatus.PENDING_FINANCE,
        db_index=True,
    )
    old_terms = models.CharField(_("terms before"), max_length=10, choices=CreditTerms)
    old_limit = models.DecimalField(_("limit before"), max_digits=14, decimal_places=2)
    new_terms = models.CharField(_("proposed terms"), max_length=10, choices=CreditTerms)
    new_limit = models.DecimalField(
        _("proposed limit (CNY)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    reason = models.TextField(_("reason"))
    needs_executive = models.BooleanField(_("needs an executive"), default=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    proposed_balance = _money(_("receivable balance when proposed"))
    proposed_overdue = _money(_("overdue when proposed"))
    finance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by (finance)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    finance_at = models.DateTimeField(_("finance decided at"), null=True, blank=True)
    finance_comment = models.TextField(_("finance comment"), blank=True)
    finance_balance = _money(_("receivable balance at finance's decision"))
    finance_overdue = _money(_("overdue at finance's decision"))
    executive_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by (executive)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    executive_at = models.DateTimeField(_("executive decided at"), null=True, blank=True)
    executive_comment = models.TextField(_("executive comment"), blank=True)
    executive_balance = _money(_("receivable balance at the executive's decision"))
    executive_overdue = _money(_("overdue at the executive's decision"))

    objects = CreditRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit request")
        verbose_name_plural = _("credit requests")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["pending_finance", "pending_executive"]),
                name="one_open_credit_request_per_customer",
                violation_error_message=_("This customer already has an open credit request."),
            ),
            models.CheckConstraint(
                condition=Q(new_limit__gte=0), name="credit_request_limit_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status", "proposed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.new_terms} {self.new_limit}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:credit_request_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in CREDIT_REQUEST_OPEN


class PrepaymentUse(models.Model):
    """The part of a prepaid customer's confirmed payments a delivery used up (先款后货)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="prepayment_uses",
    )
    transaction = models.OneToOneField(
        "accounts.Transaction",
        verbose_name=_("delivery"),
        on_delete=models.PROTECT,
        related_name="prepayment_use",
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("prepayment used by a delivery")
        verbose_name_plural = _("prepayments used by deliveries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.transaction_id}: {self.amount}"
