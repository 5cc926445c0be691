"""Reads: which contracts, steps and customers a user sees in each list."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from accounts import permissions as roles
from accounts.models import CreditTerms, Customer, CustomerStatus, Transaction

from .models import (
    AgeingBucket,
    ApprovalStep,
    CollectionAllocation,
    Contract,
    ContractStatus,
    InstalmentState,
    PaymentInstalment,
)
from .rules import AGEING_LIMITS, on_time_share, over_credit_limit


def draftable_customers(user) -> QuerySet:
    """Return the admitted customers the user may draft a contract for."""
    customers = Customer.objects.filter(
        status__in=[CustomerStatus.ACTIVE, CustomerStatus.DORMANT]
    ).order_by("name")
    if roles.is_admin(user):
        return customers
    scope = Q(pk__in=[])
    if roles.is_account_manager(user) or roles.is_department_head(user):
        scope |= Q(primary_manager=user) | Q(assistant_manager=user)
    if roles.is_department_head(user):
        scope |= Q(department__in=roles.headed_department_ids(user))
    return customers.filter(scope)


def steps_waiting_for(user) -> QuerySet:
    """Return the current steps the user may decide, oldest submission first."""
    return (
        ApprovalStep.objects.waiting_for(user)
        .select_related("contract", "contract__customer", "contract__owner", "round")
        .order_by("round__submitted_at", "pk")
    )


def contracts_for_scope(user, scope: str) -> QuerySet:
    """Return the contracts of one list: mine, waiting (for my decision), department or all."""
    visible = Contract.objects.visible_to(user)
    if scope == "waiting":
        return visible.filter(pk__in=ApprovalStep.objects.waiting_for(user).values("contract"))
    if scope == "department":
        return visible.filter(department__in=roles.headed_department_ids(user))
    if scope == "all":
        return visible
    return visible.filter(owner=user)


# --- Receivables (回款) ----------------------------------------------------------------------
# The paid/due facts live here, once: an instalment's due date, the confirmed collections
# allocated to it, and the date those made it whole (paid_on). States and ageing buckets are
# derived from them in SQL (annotations), so lists filter and group on them.

# Contracts whose plan is owed: from the signature on (an expired contract is still owed).
RECEIVABLE_STATUSES = (ContractStatus.SIGNED, ContractStatus.ACTIVE, ContractStatus.EXPIRED)
# Contracts that count against a credit limit: committed ones.
EXPOSURE_STATUSES = (ContractStatus.APPROVED, *RECEIVABLE_STATUSES)
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


def _confirmed_allocations():
    return CollectionAllocation.objects.filter(
        instalment=OuterRef("pk"), collection__confirmed_at__isnull=False
    ).order_by()


def annotate_instalment_facts(queryset: QuerySet, *, today=None) -> QuerySet:
    """Annotate paid_amount, open_amount, paid_on, state and ageing bucket (all in SQL).

    paid_on: allocations never exceed an instalment, so once the confirmed ones add up to the
    amount every one of them was needed; the instalment became whole on the latest of their
    receipt dates.
    """
    today = today or timezone.localdate()
    money = DecimalField(max_digits=14, decimal_places=2)
    paid = Subquery(
        _confirmed_allocations().values("instalment").annotate(total=Sum("amount")).values("total"),
        output_field=money,
    )
    last_receipt = Subquery(
        _confirmed_allocations()
        .values("instalment")
        .annotate(last=Max("collection__received_on"))
        .values("last"),
        output_field=DateField(),
    )
    limits = [(today - datetime.timedelta(days=days), bucket) for days, bucket in AGEING_LIMITS]
    return queryset.annotate(
        paid_amount=Coalesce(paid, ZERO, output_field=money),
    ).annotate(
        open_amount=ExpressionWrapper(F("amount") - F("paid_amount"), output_field=money),
        paid_on=Case(When(paid_amount__gte=F("amount"), then=last_receipt), default=None),
        state=Case(
            When(paid_amount__gte=F("amount"), then=Value(InstalmentState.PAID)),
            When(due_date__lt=today, then=Value(InstalmentState.OVERDUE)),
            When(paid_amount__gt=0, then=Value(InstalmentState.PARTLY_PAID)),
            default=Value(InstalmentState.OPEN),
            output_field=CharField(),
        ),
        bucket=Case(
            When(paid_amount__gte=F("amount"), then=Value("")),
            When(due_date__gte=today, then=Value("")),
            *[When(due_date__gte=limit, then=Value(bucket)) for limit, bucket in limits],
            default=Value("90+"),
            output_field=CharField(),
        ),
    )


def receivables(user, *, today=None) -> QuerySet:
    """Return the unpaid instalments of contracts in force this user may see, with facts."""
    return (
        PaymentInstalment.objects.visible_to(user)
        .filter(contract__status__in=RECEIVABLE_STATUSES)
        .with_facts(today=today)
        .exclude(state=InstalmentState.PAID)
        .select_related(
            "contract",
            "contract__customer",
            "contract__owner",
            "contract__department",
        )
        .order_by("due_date", "pk")
    )


def receivables_for_scope(user, scope: str, *, today=None) -> QuerySet:
    """mine: contracts I own or customers I manage; department: heads'; company: everything."""
    rows = receivables(user, today=today)
    if scope == "department":
        return rows.filter(contract__department__in=roles.headed_department_ids(user))
    if scope == "company":
        return rows
    return rows.filter(
        Q(contract__owner=user)
        | Q(contract__customer__primary_manager=user)
        | Q(contract__customer__assistant_manager=user)
    )


def ageing_summary(rows: QuerySet, *, group_by: str | None = None) -> list[dict]:
    """Sum the open amount per ageing bucket (and not yet due), optionally per group, in SQL."""
    money = DecimalField(max_digits=16, decimal_places=2)
    sums = {
        "due": Coalesce(Sum("open_amount", filter=Q(bucket="")), ZERO, output_field=money),
        **{
            f"b{index}": Coalesce(
                Sum("open_amount", filter=Q(bucket=bucket)), ZERO, output_field=money
            )
            for index, bucket in enumerate(AgeingBucket.values)
        },
        "total": Coalesce(Sum("open_amount"), ZERO, output_field=money),
        "count": Count("pk"),
    }
    rows = rows.order_by()
    if group_by is None:
        return [rows.aggregate(**sums)]
    return list(rows.values(group_by).annotate(**sums).order_by(group_by))


def instalments_of(contract: Contract, *, today=None) -> QuerySet:
    return contract.instalments.with_facts(today=today).order_by("sequence")


def customer_open_receivables(customer) -> Decimal:
    """What the customer owes or has committed to (see customer_exposures)."""
    return customer_exposure(customer).balance


@dataclass(frozen=True)
class Exposure:
    """A customer's credit exposure (信用敞口), as credit is decided on it."""

    credit_terms: str
    credit_limit: Decimal
    balance: Decimal
    overdue: Decimal

    @property
    def is_credit(self) -> bool:
        return self.credit_terms == CreditTerms.CREDIT

    @property
    def over_limit(self) -> bool:
        return self.is_credit and self.balance > self.credit_limit

    def would_exceed(self, amount) -> bool:
        """Whether a further amount takes a credit customer over the limit."""
        return over_credit_limit(
            credit_terms=self.credit_terms,
            credit_limit=self.credit_limit,
            open_receivables=self.balance,
            amount=Decimal(amount or 0),
        )


def customer_exposures(customers, *, today=None) -> dict[int, Exposure]:
    """Return each customer's exposure in a fixed number of queries, whatever their number.

    balance: open instalments of committed contracts, committed contracts without a plan at
    their full amount, and unpaid transactions outside any contract plan. overdue: what of
    that is past due — instalments of contracts in force and transactions past their due date.
    """
    today = today or timezone.localdate()
    customers = list(customers)
    ids = [customer.pk for customer in customers]
    money = DecimalField(max_digits=16, decimal_places=2)
    totals = {pk: [Decimal("0"), Decimal("0")] for pk in ids}
    instalments = PaymentInstalment.objects.filter(
        contract__customer__in=ids, contract__status__in=EXPOSURE_STATUSES
    )
    plans = (
        instalments.with_facts(today=today)
        .order_by()
        .values("contract__customer")
        .annotate(
            total=Coalesce(Sum("open_amount"), ZERO, output_field=money),
            overdue=Coalesce(
                Sum(
                    "open_amount",
                    filter=Q(state=InstalmentState.OVERDUE)
                    & Q(contract__status__in=RECEIVABLE_STATUSES),
                ),
                ZERO,
                output_field=money,
            ),
        )
    )
    for row in plans:
        totals[row["contract__customer"]][0] += row["total"]
        totals[row["contract__customer"]][1] += row["overdue"]
    unplanned = (
        Contract.objects.filter(
            customer__in=ids, status__in=EXPOSURE_STATUSES, instalments__isnull=True
        )
        .order_by()
        .values("customer")
        .annotate(total=Sum("amount"))
    )
    for row in unplanned:
        totals[row["customer"]][0] += row["total"]
    codes = instalments.annotate(
        code=Concat("contract__number", Value("/"), Cast("sequence", CharField()))
    ).values("code")
    unpaid = (
        Transaction.objects.filter(customer__in=ids, paid_date__isnull=True)
        .exclude(reference__in=Subquery(codes))
        .order_by()
        .values("customer")
        .annotate(
            total=Sum("amount"),
            overdue=Coalesce(Sum("amount", filter=Q(due_date__lt=today)), ZERO, output_field=money),
        )
    )
    for row in unpaid:
        totals[row["customer"]][0] += row["total"]
        totals[row["customer"]][1] += row["overdue"]
    return {
        customer.pk: Exposure(
            credit_terms=customer.credit_terms,
            credit_limit=customer.credit_limit,
            balance=Decimal(totals[customer.pk][0]),
            overdue=Decimal(totals[customer.pk][1]),
        )
        for customer in customers
    }


def customer_exposure(customer, *, today=None) -> Exposure:
    return customer_exposures([customer], today=today)[customer.pk]


def prepayment_balance(customer) -> Decimal:
    """A prepaid customer's confirmed payments not yet used by a delivery (先款后货)."""
    from .models import Collection, PrepaymentUse

    received = Collection.objects.filter(
        contract__customer=customer, confirmed_at__isnull=False
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    used = PrepaymentUse.objects.filter(customer=customer).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0")
    return received - used


def credit_requests_waiting_for(user) -> QuerySet:
    """Return the open credit requests this user may decide now, oldest first."""
    from .models import CreditRequest, CreditRequestStatus

    states = []
    if roles.is_finance(user):
        states.append(CreditRequestStatus.PENDING_FINANCE)
    if roles.is_executive(user):
        states.append(CreditRequestStatus.PENDING_EXECUTIVE)
    return (
        CreditRequest.objects.visible_to(user)
        .filter(status__in=states)
        .exclude(proposed_by=user)
        .select_related("customer", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def instalment_by_code(customer, reference: str) -> PaymentInstalment | None:
    """Return the customer's instalment a transaction reference names (HT-2026-0001/2)."""
    number, sep, sequence = (reference or "").strip().rpartition("/")
    if not sep or not sequence.isdigit():
        return None
    return (
        PaymentInstalment.objects.filter(
            contract__customer=customer, contract__number=number, sequence=int(sequence)
        )
        .select_related("contract")
        .with_facts()
        .first()
    )


def payment_record_from_receivables(customer, *, start, end) -> Decimal | None:
    """The DESIGN payment_record over the customer's delivered instalments, from the facts.

    An instalment is delivered when a transaction carries its code; those transactions are what
    the tier computation reads, with due/paid dates written from these same facts.
    """
    instalments = PaymentInstalment.objects.filter(contract__customer=customer).select_related(
        "contract"
    )
    delivered = set(
        Transaction.objects.filter(customer=customer).values_list("reference", flat=True)
    )
    facts = [
        (row.due_date, row.paid_on)
        for row in instalments.with_facts()
        if f"{row.contract.number}/{row.sequence}" in delivered
    ]
    return on_time_share(facts, start=start, end=end)
