"""Key accounts (大客户) and the people who manage them."""

from __future__ import annotations

import functools
import operator
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import connections, models
from django.db.models import Q, Value
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .validators import validate_credit_code


class FastChoiceDisplayMixin:
    """get_FOO_display() from a dict built once per field, instead of Django's per call.

    Django rebuilds the field's value-to-label dict on every call, hashing every (lazy) label,
    which translates it: a list of 25 customers spent a tenth of its rendering there. The dict
    holds the lazy labels, so each call still answers in the current language.
    """

    def _get_FIELD_display(self, field):
        labels = field.__dict__.get("_labels_by_value")
        if labels is None:
            labels = {make_hashable(value): label for value, label in field.flatchoices}
            field._labels_by_value = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="headed_departments",
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return display_name(self.username, self.first_name, self.last_name)

    def get_full_name(self) -> str:
        # Chinese names read family name first, without a space.
        return f"{self.last_name}{self.first_name}".strip()


def display_name(username: str, first_name: str, last_name: str) -> str:
    """Return how a user is shown (User.__str__), from the plain field values."""
    return f"{last_name}{first_name}".strip() or username


class CustomerType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Government / institution")
    INDIVIDUAL = "individual", _("High-net-worth individual")
    PARTNER = "partner", _("Strategic partner")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    PENDING_ADMISSION = "pending_admission", _("Pending admission")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    TERMINATED = "terminated", _("Terminated")


class Tier(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    ENERGY = "energy", _("Energy")
    FINANCE = "finance", _("Financial services")
    IT = "it", _("Information technology")
    TELECOM = "telecom", _("Telecommunications")
    RETAIL = "retail", _("Retail and wholesale")
    CONSTRUCTION = "construction", _("Construction and real estate")
    LOGISTICS = "logistics", _("Transport and logistics")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    PUBLIC = "public", _("Public administration")
    OTHER = "other", _("Other")


class SourceChannel(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition")
    TENDER = "tender", _("Public tender")
    COLD_CALL = "cold_call", _("Direct sales")
    WEBSITE = "website", _("Website")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class CreditTerms(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid (payment before goods)")
    CREDIT = "credit", _("Credit")


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> CustomerQuerySet:
        """Return the customers this user may see."""
        from . import permissions

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if permissions.sees_everything(user):
            return self
        ways = [Q(primary_manager=user), Q(assistant_manager=user), Q(chief_manager=user)]
        if permissions.is_account_manager(user) and user.department_id:
            # A manager sees their department's pool, to claim from it.
            ways.append(
                Q(primary_manager__isnull=True, department=user.department_id)
                & ~Q(status=CustomerStatus.TERMINATED)
            )
        if permissions.is_department_head(user):
            ways.append(Q(department__in=permissions.headed_department_ids(user)))
        if connections[self.db].vendor == "postgresql":
            # PostgreSQL ORs one bitmap per index and sorts only the visible rows; a head's
            # department through `id IN (UNION ALL …)` cost a key look-up per row (4× slower).
            return self.filter(functools.reduce(operator.or_, ways))
        # One indexed read per way of seeing a customer, joined by UNION ALL. With the same
        # conditions OR-ed, SQLite walks the newest-first index through the whole table to
        # fill a page of a few hundred visible customers.
        base = self.model._base_manager
        reads = [base.filter(way).values("pk").order_by() for way in ways]
        return self.filter(pk__in=reads[0].union(*reads[1:], all=True))

    def managed_by(self, user) -> CustomerQuerySet:
        return self.filter(Q(primary_manager=user) | Q(assistant_manager=user))

    def in_pool(self) -> CustomerQuerySet:
        """Return the customers that belong to no manager (the pool, 公海)."""
        return self.filter(primary_manager__isnull=True).exclude(status=CustomerStatus.TERMINATED)


class Customer(FastChoiceDisplayMixin, models.Model):
    """A key account's archive (客户档案). Never deleted: terminated instead."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
        help_text=_("18 characters (统一社会信用代码); leave blank for individuals."),
    )
    customer_type = models.CharField(
        _("customer type"), max_length=20, choices=CustomerType, default=CustomerType.ENTERPRISE
    )
    industry = models.CharField(
        _("industry"), max_length=30, choices=Industry, default=Industry.OTHER
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    source_channel = models.CharField(
        _("source channel"), max_length=20, choices=SourceChannel, default=SourceChannel.OTHER
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CustomerStatus,
        default=CustomerStatus.PROSPECT,
        db_index=True,
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="customers"
    )
    primary_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("primary manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_customers",
    )
    assistant_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assistant manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assisted_customers",
    )
    chief_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chief manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chief_customers",
        help_text=_("An executive who leads the service team of an A-tier account."),
    )
    # Set only by a published grading run or a recorded override (tiers app).
    tier = models.CharField(_("tier"), max_length=1, choices=Tier, blank=True, db_index=True)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    credit_terms = models.CharField(
        _("credit terms"), max_length=10, choices=CreditTerms, default=CreditTerms.PREPAID
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    last_verified_at = models.DateTimeField(_("archive last verified at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    terminated_reason = models.TextField(_("reason for termination"), blank=True)
    # A locked customer never returns to the prospect pool automatically (公海).
    pool_locked = models.BooleanField(_("locked against return to the pool"), default=False)
    pool_lock_reason = models.CharField(_("reason for the lock"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="customer_credit_code_unique",
                violation_error_message=_("A customer with this credit code already exists."),
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0),
                name="customer_credit_limit_not_negative",
                violation_error_message=_("The credit limit cannot be negative."),
            ),
            # The same rule as customer_assign_manager's, held by the database on every path.
            models.CheckConstraint(
                condition=Q(primary_manager__isnull=True)
                | Q(assistant_manager__isnull=True)
                | ~Q(primary_manager=models.F("assistant_manager")),
                name="customer_primary_not_assistant",
                violation_error_message=_(
                    "The primary and assistant manager must be two different people."
                ),
            ),
        ]
        indexes = [
            # By department (and status, tier: the tier distribution reads the index alone).
            models.Index(fields=["department", "status", "tier"], name="customer_department"),
            # With created_at: the scorecard counts each manager's customers and new ones from
            # the index alone.
            models.Index(
                fields=["primary_manager", "status", "created_at"], name="customer_manager_status"
            ),
            models.Index(fields=["assistant_manager"]),
            # A manager's view of their department's pool (no primary manager).
            models.Index(fields=["primary_manager", "department"], name="customer_pool"),
            models.Index(fields=["province", "city"]),
            # Filtered by industry (and status) in the default order, read from the index alone.
            models.Index(
                fields=["industry", "status", "-created_at", "-id"],
                name="customer_industry_status",
            ),
            # The list's default order: newest first, without sorting the table per page.
            models.Index(fields=["-created_at", "-id"], name="customer_newest_first"),
            # The list's other orders, each followed by id (accounts.filters.StableOrderingFilter).
            models.Index(fields=["status", "id"], name="customer_by_status"),
            # Also the look-ups by exact name (imports): replaces the plain index on name, which
            # on PostgreSQL left every page sorted by name to a sort of each run of equal names.
            models.Index(fields=["name", "id"], name="customer_by_name"),
            models.Index(fields=["tier", "id"], name="customer_by_tier"),
            # The home page's customers by status and tier (and pool), read from the index alone.
            models.Index(fields=["status", "tier", "primary_manager"], name="customer_status_tier"),
            models.Index(fields=["score", "id"], name="customer_by_score"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:customer_detail", args=[self.pk])

    @property
    def is_terminated(self) -> bool:
        return self.status == CustomerStatus.TERMINATED


class ChildOfCustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Return the rows of customers this user may see."""
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("role in the decision"), max_length=20, choices=DecisionRole, default=DecisionRole.USER
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=50, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Transaction(models.Model):
    """A purchase (交易记录): the source of purchase amount, frequency, profit and payment."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    date = models.DateField(_("date"))
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    profit = models.DecimalField(_("profit"), max_digits=14, decimal_places=2, default=0)
    due_date = models.DateField(_("payment due date"), null=True, blank=True)
    paid_date = models.DateField(_("paid on"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="transaction_amount_not_negative",
                violation_error_message=_("The amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | Q(due_date__gte=models.F("date")),
                name="transaction_due_not_before_date",
                violation_error_message=_("The due date cannot be before the date."),
            ),
        ]
        indexes = [models.Index(fields=["customer", "date"]), models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.amount}"


class DocumentKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    TAX_REGISTRATION = "tax_registration", _("Tax registration certificate")
    BANK_PERMIT = "bank_permit", _("Bank account permit")
    TAXPAYER_CERTIFICATE = "taxpayer_certificate", _("General taxpayer certificate")
    LEGAL_REP_ID = "legal_rep_id", _("Legal representative's ID")
    AUTHORISATION_LETTER = "authorisation_letter", _("Letter of authorisation")


# The qualification checklist (资质) a prospect needs before admission, by customer type.
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    CustomerType.ENTERPRISE: (
        DocumentKind.BUSINESS_LICENCE,
        DocumentKind.BANK_PERMIT,
        DocumentKind.LEGAL_REP_ID,
        DocumentKind.AUTHORISATION_LETTER,
    ),
    CustomerType.PARTNER: (
        DocumentKind.BUSINESS_LICENCE,
        DocumentKind.BANK_PERMIT,
        DocumentKind.LEGAL_REP_ID,
        DocumentKind.AUTHORISATION_LETTER,
    ),
    CustomerType.GOVERNMENT: (DocumentKind.AUTHORISATION_LETTER,),
    CustomerType.INDIVIDUAL: (DocumentKind.LEGAL_REP_ID,),
}


def document_upload_to(instance: QualificationDocument, filename: str) -> str:
    return f"documents/{instance.customer_id}/{timezone.now():%Y%m}/{filename}"


class QualificationDocument(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind)
    file = models.FileField(_("file"), upload_to=document_upload_to)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    is_current = models.BooleanField(_("current"), default=True)

    history = HistoricalRecords()
    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")
        ordering = ["kind", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.customer}"

    def is_valid_on(self, day) -> bool:
        return self.is_current and (self.expires_on is None or self.expires_on >= day)


class AdmissionDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class AdmissionRequest(models.Model):
    """A prospect's request to become an active key account (准入审批)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="admission_requests",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=10, choices=AdmissionDecision, default=AdmissionDecision.PENDING
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

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("admission request")
        verbose_name_plural = _("admission requests")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(decision="pending"),
                name="one_pending_admission_per_customer",
                violation_error_message=_("This customer already has a pending admission request."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_decision_display()})"


class ManagerRole(models.TextChoices):
    PRIMARY = "primary_manager", _("Primary manager")
    ASSISTANT = "assistant_manager", _("Assistant manager")
    CHIEF = "chief_manager", _("Chief manager")


class Handover(models.Model):
    """One manager's customers and open work moved to a successor in one action."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        related_name="handovers_given",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="handovers_received",
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.performed_at:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("accounts:handover_detail", args=[self.pk])


class AssignmentKind(models.TextChoices):
    MANUAL = "manual", _("Reassignment")
    CREATED = "created", _("Customer created")
    HANDOVER = "handover", _("Handover")
    CLAIM = "claim", _("Claimed from the pool")
    RELEASE = "release", _("Released to the pool")
    POOL_ASSIGN = "pool_assign", _("Assigned from the pool")
    POOL_RETURN = "pool_return", _("Returned to the pool automatically")


class AssignmentChange(models.Model):
    """A change of a customer's primary, assistant or chief manager: who, when and why."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="assignment_changes",
    )
    role = models.CharField(_("role"), max_length=20, choices=ManagerRole)
    kind = models.CharField(
        _("kind"), max_length=20, choices=AssignmentKind, default=AssignmentKind.MANUAL
    )
    old_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    new_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("new"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    handover = models.ForeignKey(
        Handover,
        verbose_name=_("handover"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment change")
        verbose_name_plural = _("assignment changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "changed_at"]),
            models.Index(fields=["changed_by", "kind", "changed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.get_role_display()} {self.old_user} → {self.new_user}"


# Separates the fields in CustomerSearch.text, so that a term never matches across two fields.
SEARCH_FIELD_SEPARATOR = "\x1f"


class CustomerSearch(models.Model):
    """What the customer list's search looks in, one narrow row per customer.

    Written only by database triggers on customers and contacts (migration
    0008_customer_search), so that bulk inserts and updates keep it in step too. A search scans
    this small table (or, on PostgreSQL, its trigram indexes) instead of every customer row and
    every contact.
    """

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    # Name, short name, then each contact's name and phone, joined by SEARCH_FIELD_SEPARATOR,
    # upper-cased by the database.
    text = models.TextField(_("search text"))

    class Meta:
        verbose_name = _("customer search text")
        verbose_name_plural = _("customer search texts")

    def __str__(self) -> str:
        return self.text


class HasBigramOf(models.Func):
    """accounts_bigrams(text) @> ARRAY[the first two characters of term], PostgreSQL only: the
    GIN index of migration 0016, for terms too short for a trigram. A row holding the term holds
    its first two characters, so this only narrows; the LIKE beside it decides."""

    output_field = models.BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        text_sql, text_params = compiler.compile(self.source_expressions[0])
        term_sql, term_params = compiler.compile(self.source_expressions[1])
        sql = f"accounts_bigrams({text_sql}) @> ARRAY[substr({term_sql}, 1, 2)]"
        return sql, (*text_params, *term_params)


def customers_matching(term: str) -> models.QuerySet:
    """Return the ids of customers whose name, short name, contact name or contact phone
    contains term (case-insensitively), or whose credit code starts with it."""
    by_code = Q(credit_code__startswith=term.upper())
    if SEARCH_FIELD_SEPARATOR in term:
        return CustomerSearch.objects.filter(by_code).values("customer_id")
    # The text is stored through the database's UPPER: the same UPPER on the term gives
    # icontains' meaning on each database, and lets PostgreSQL use the trigram index.
    upper = Upper(Value(term))
    by_text = Q(text__contains=upper)
    if connections[CustomerSearch.objects.db].vendor != "postgresql":
        return CustomerSearch.objects.filter(by_code | by_text).values("customer_id")
    texts = CustomerSearch.objects.filter(by_text)
    if len(term) == 2:
        texts = texts.filter(HasBigramOf(models.F("text"), upper))
    # Two reads joined rather than one OR: each uses its own index, and the bigram condition
    # is not recomputed for every row as part of an OR filter.
    codes = CustomerSearch.objects.filter(by_code).values("customer_id").order_by()
    return codes.union(texts.values("customer_id").order_by(), all=True)


class PoolPolicy(models.Model):
    """The caps of the prospect pool (潜在大客户信息库 / 公海); the first row is in force."""

    max_customers_per_manager = models.PositiveIntegerField(
        _("most customers a manager may own"), default=200
    )
    max_claims_per_day = models.PositiveIntegerField(
        _("most claims per manager per day"), default=20
    )
    warning_days = models.PositiveIntegerField(
        _("days of warning before an automatic return"), default=7
    )

    class Meta:
        verbose_name = _("pool policy")
        verbose_name_plural = _("pool policies")

    def __str__(self) -> str:
        return str(_("Pool policy"))

    @classmethod
    def current(cls) -> PoolPolicy:
        return cls.objects.order_by("pk").first() or cls()


class PoolRuleScope(models.TextChoices):
    PROSPECT = "prospect", _("Prospects")
    A = "A", _("Tier A")
    B = "B", _("Tier B")
    C = "C", _("Tier C")
    D = "D", _("Tier D")


class PoolReturnRule(models.Model):
    """When a neglected customer returns to the pool: per tier, or for prospects."""

    scope = models.CharField(_("applies to"), max_length=10, choices=PoolRuleScope, unique=True)
    days_without_contact = models.PositiveIntegerField(
        _("days without a visit or information feedback"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no contact rule."),
    )
    days_without_transaction = models.PositiveIntegerField(
        _("days without a transaction"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no transaction rule."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pool return rule")
        verbose_name_plural = _("pool return rules")
        ordering = ["scope"]

    def __str__(self) -> str:
        return self.get_scope_display()


class PoolWarning(models.Model):
    """A warning that a customer will return to the pool; one per customer, manager and date."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    returns_on = models.DateField(_("returns on"))
    reason = models.CharField(_("reason"), max_length=200)
    warned_at = models.DateTimeField(_("warned at"), default=timezone.now)

    objects = ChildOfCustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("pool warning")
        verbose_name_plural = _("pool warnings")
        ordering = ["returns_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "manager", "returns_on"], name="one_pool_warning_per_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.returns_on}"


class TransferKind(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")


class DataTransferLog(models.Model):
    """An Excel import or export: who moved which data, when, and how many rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TransferKind)
    what = models.CharField(_("what"), max_length=100)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    query = models.CharField(_("filters"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("data transfer")
        verbose_name_plural = _("data transfers")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.what} ({self.row_count})"
