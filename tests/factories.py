"""factory-boy factories for the accounts models: valid by default, overridable per test."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import (
    REQUIRED_DOCUMENTS,
    Contact,
    Customer,
    Department,
    DocumentKind,
    QualificationDocument,
    Transaction,
    User,
)
from accounts.validators import credit_code_check_character

# The smallest file the upload check accepts as a PDF: it starts with the real magic number.
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "correct-horse-battery-staple"


def valid_credit_code(n: int, *, prefix: str = "91440300") -> str:
    """Return a credit code with a correct GB 32100-2015 check character, unique per n."""
    first17 = f"{prefix}{n:0{17 - len(prefix)}d}"
    return first17 + credit_code_check_character(first17)


def pdf_upload(name: str = "licence.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user; pass roles=[Role.ACCOUNT_MANAGER, …] to put them in role groups."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"名{n}")
    last_name = "张"
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)
    is_active = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=[str(role) for role in extracted]))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} Trading Ltd")
    credit_code = factory.Sequence(valid_credit_code)
    department = factory.SubFactory(DepartmentFactory)
    province = "广东省"
    city = "深圳市"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "采购经理"
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    date = datetime.date(2026, 3, 15)
    amount = Decimal("120000.00")
    profit = Decimal("18000.00")
    due_date = factory.LazyAttribute(lambda t: t.date + datetime.timedelta(days=30))
    reference = factory.Sequence(lambda n: f"SO-{n:06d}")


class QualificationDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualificationDocument

    customer = factory.SubFactory(CustomerFactory)
    kind = DocumentKind.BUSINESS_LICENCE
    file = factory.LazyAttribute(lambda doc: pdf_upload(f"{doc.kind}.pdf"))


def complete_checklist(customer: Customer, **fields) -> list[QualificationDocument]:
    """Upload every document the customer's type needs for admission."""
    return [
        QualificationDocumentFactory(customer=customer, kind=kind, **fields)
        for kind in REQUIRED_DOCUMENTS[customer.customer_type]
    ]
