"""The list's search finds customers by name, short name, credit-code prefix, contact name or
phone, and stays in step with every change, however it is written (the search table is kept by
database triggers)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory, valid_credit_code


@pytest.fixture
def found(client_for, executive):
    client = client_for(executive)

    def search(term: str) -> set[str]:
        response = client.get(reverse("accounts:customer_list"), {"q": term, "per_page": 100})
        assert response.status_code == 200
        return {customer.name for customer in response.context["customers"]}

    return search


@pytest.fixture
def customers(east):
    yuanhang = CustomerFactory(
        name="宁波远航物流有限公司",
        short_name="甬远物流",
        credit_code=valid_credit_code(7, prefix="91330200"),
        department=east,
    )
    ContactFactory(customer=yuanhang, name="陈海燕", phone="13912345678")
    other = CustomerFactory(
        name="Acme Trading Ltd", short_name="ACME", credit_code="", department=east
    )
    ContactFactory(customer=other, name="Wang Wei", phone="021-5550100")
    return yuanhang, other


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("远航", {"宁波远航物流有限公司"}),  # name
        ("甬远", {"宁波远航物流有限公司"}),  # short name
        ("913302", {"宁波远航物流有限公司"}),  # credit-code prefix
        ("陈海燕", {"宁波远航物流有限公司"}),  # contact name
        ("13912", {"宁波远航物流有限公司"}),  # contact phone
        ("acme", {"Acme Trading Ltd"}),  # name, whatever the case
        ("trading", {"Acme Trading Ltd"}),
        ("wang wei", {"Acme Trading Ltd"}),  # contact name, whatever the case
        ("555", {"Acme Trading Ltd"}),
        ("  远航  ", {"宁波远航物流有限公司"}),  # surrounding blanks ignored
    ],
)
def test_search_finds_by_each_field(customers, found, term, expected):
    assert found(term) == expected


@pytest.mark.parametrize(
    "term",
    [
        "0200",  # inside the credit code, not its start
        "物流有限公司甬远",  # across the name and the short name
        "甬远物流陈海燕",  # across the short name and a contact
        "%",
        "_",
        "有限公司\x1f甬远",  # the separator of the search text
        "不存在",
    ],
)
def test_search_matches_nothing_across_or_inside_fields(customers, found, term):
    assert found(term) == set()


def test_search_follows_changes_made_any_way(customers, found):
    yuanhang, other = customers
    yuanhang.name = "宁波启航物流有限公司"
    yuanhang.save()
    assert found("远航") == set()
    assert found("启航") == {"宁波启航物流有限公司"}

    # Bulk writes bypass save(): the triggers still see them.
    Customer.objects.filter(pk=other.pk).update(short_name="新短名")
    assert found("新短名") == {"Acme Trading Ltd"}
    Contact.objects.filter(customer=yuanhang).update(phone="18600001111")
    assert found("13912") == set()
    assert found("186000") == {"宁波启航物流有限公司"}
    Contact.objects.bulk_create([Contact(customer=other, name="李雷", phone="17700000000")])
    assert found("李雷") == {"Acme Trading Ltd"}

    # A contact moved to another customer is found under that one only.
    Contact.objects.filter(name="李雷").update(customer=yuanhang)
    assert found("李雷") == {"宁波启航物流有限公司"}
    Contact.objects.filter(name="李雷").delete()
    assert found("李雷") == set()


def test_a_new_customer_is_found_at_once(east, found):
    CustomerFactory(name="杭州新创科技有限公司", department=east)
    assert found("新创") == {"杭州新创科技有限公司"}


def test_search_keeps_to_the_users_scope(customers, client_for, manager):
    yuanhang, _other = customers
    yuanhang.primary_manager = manager
    yuanhang.save()
    response = client_for(manager).get(reverse("accounts:customer_list"), {"q": "物流"})
    assert [customer.pk for customer in response.context["customers"]] == [yuanhang.pk]


@pytest.mark.django_db
def test_emptying_the_tables_in_any_order_leaves_no_search_row_behind(east):
    """A test database's flush deletes customers, contacts and search rows in any order: a
    contact's trigger must not re-create the search row of a customer being deleted."""
    from django.db import connection

    customer = CustomerFactory(department=east, name="远航")
    ContactFactory(customer=customer, name="张三", phone="13900000000")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_customersearch")
        cursor.execute("DELETE FROM accounts_contact")
        cursor.execute("SELECT COUNT(*) FROM accounts_customersearch")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_on_postgresql_a_two_character_term_is_found_through_the_bigram_index(east):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import customers_matching

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    wanted = CustomerFactory(department=east, name="远航物流有限公司")
    CustomerFactory(department=east, name="远方航运有限公司")
    for term in ("远航", "远航物"):
        with CaptureQueriesContext(connection) as queries:
            found = list(Customer.objects.filter(pk__in=customers_matching(term)))
        assert found == [wanted]
        assert ("accounts_bigrams" in queries[0]["sql"]) == (len(term) == 2)
