"""Creating and editing customers: defaults, the duplicate warning and the unique code."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import AssignmentChange, Customer, CustomerStatus, CustomerType
from tests.factories import CustomerFactory, valid_credit_code
from tests.helpers import zh

CODE = "91350100M000100Y43"
DUPLICATE_WARNING = (
    "Customers with a similar name or the same credit code already exist. "
    "Check them above; tick the box to save this customer anyway."
)


def form_data(department, **overrides) -> dict:
    data = {
        "name": "福州海峡机电设备有限公司",
        "short_name": "海峡机电",
        "credit_code": CODE,
        "customer_type": CustomerType.ENTERPRISE,
        "industry": "manufacturing",
        "province": "福建省",
        "city": "福州市",
        "address": "鼓楼区五四路 1 号",
        "source_channel": "referral",
        "department": department.pk,
        "credit_terms": "prepaid",
        "credit_limit": "0",
        "notes": "",
    }
    data.update(overrides)
    return data


def post_create(client, data):
    return client.post(reverse("accounts:customer_create"), data)


def test_a_manager_creates_a_prospect_they_manage(client_for, manager):
    response = post_create(client_for(manager), form_data(manager.department))
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.status == CustomerStatus.PROSPECT
    assert customer.primary_manager == manager
    assert customer.created_by == manager
    change = AssignmentChange.objects.get(customer=customer)
    assert (change.role, change.old_user, change.new_user) == ("primary_manager", None, manager)


def test_the_form_defaults_to_the_users_department(client_for, manager):
    response = client_for(manager).get(reverse("accounts:customer_create"))
    assert response.status_code == 200
    assert response.context["form"]["department"].value() == manager.department.pk


def test_the_credit_code_is_stored_in_capitals(client_for, manager):
    post_create(client_for(manager), form_data(manager.department, credit_code=f" {CODE.lower()} "))
    assert Customer.objects.get().credit_code == CODE


def test_a_manager_cannot_create_in_another_department(client_for, manager, north):
    response = post_create(client_for(manager), form_data(north))
    assert response.status_code == 200
    assert response.context["form"].errors["department"]
    assert not Customer.objects.exists()


def test_a_head_may_name_any_manager_of_the_department(client_for, head, manager, manager2):
    data = form_data(head.department, primary_manager=manager.pk, assistant_manager=manager2.pk)
    post_create(client_for(head), data)
    customer = Customer.objects.get()
    assert (customer.primary_manager, customer.assistant_manager) == (manager, manager2)
    assert AssignmentChange.objects.filter(customer=customer).count() == 2


def test_a_manager_of_another_department_is_not_offered(client_for, head, other_manager):
    data = form_data(head.department, primary_manager=other_manager.pk)
    response = post_create(client_for(head), data)
    assert response.context["form"].errors["primary_manager"]
    assert not Customer.objects.exists()


# --- the duplicate warning -----------------------------------------------------------------


def test_the_same_credit_code_shows_the_existing_customer(client_for, manager, other_manager):
    # Even a customer the user cannot see is a duplicate: the code is unique company-wide.
    existing = CustomerFactory(
        name="海峡机电", credit_code=CODE, department=other_manager.department
    )
    response = post_create(client_for(manager), form_data(manager.department, name="完全不同"))
    assert response.status_code == 200
    assert [(other, seen) for other, seen, _text in response.context["duplicates"]] == [
        (existing, False)
    ]
    page = response.content.decode()
    assert 'data-testid="duplicate-warning"' in page
    # Outside the user's scope it is named only by its department: nothing else leaks.
    warning = page.split('data-testid="duplicate-warning"')[1].split("</div>")[0]
    assert "海峡机电" not in warning
    assert CODE not in warning
    assert zh(
        "A customer of %(department)s outside your scope; ask that department's head.",
        department=existing.department.name,
    ) in page.replace("&#x27;", "'")
    assert zh(DUPLICATE_WARNING) in response.context["form"].non_field_errors()
    assert Customer.objects.count() == 1


def test_confirming_a_duplicate_code_still_hits_the_unique_constraint(client_for, manager):
    CustomerFactory(name="海峡机电", credit_code=CODE, department=manager.department)
    data = form_data(manager.department, name="完全不同", confirm_duplicate="on")
    response = post_create(client_for(manager), data)
    assert response.status_code == 200
    assert zh("A customer with this credit code already exists.") in str(
        response.context["form"].errors
    )
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    "new_name",
    [
        "福州海峡机电设备股份有限公司",  # another legal form
        "福州海峡机电设备有限公司 ",  # trailing space
        "福州海峡机电设备（集团）有限公司",
        "福州市海峡机电设备有限公司",  # one character more
    ],
)
def test_a_near_identical_name_warns(client_for, manager, new_name):
    existing = CustomerFactory(
        name="福州海峡机电设备有限公司", department=manager.department, primary_manager=manager
    )
    data = form_data(manager.department, name=new_name, credit_code="")
    response = post_create(client_for(manager), data)
    assert response.status_code == 200
    assert [(other, seen) for other, seen, _text in response.context["duplicates"]] == [
        (existing, True)
    ]
    assert Customer.objects.count() == 1


def test_ticking_the_box_creates_the_near_duplicate(client_for, manager):
    CustomerFactory(name="福州海峡机电设备有限公司", department=manager.department)
    data = form_data(
        manager.department,
        name="福州海峡机电设备股份有限公司",
        credit_code="",
        confirm_duplicate="on",
    )
    response = post_create(client_for(manager), data)
    assert response.status_code == 302
    assert Customer.objects.filter(name="福州海峡机电设备股份有限公司").exists()


def test_a_different_name_does_not_warn(client_for, manager):
    CustomerFactory(name="福州海峡机电设备有限公司", department=manager.department)
    data = form_data(manager.department, name="福州闽江食品有限公司", credit_code="")
    response = post_create(client_for(manager), data)
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_editing_a_customer_does_not_flag_itself(client_for, manager):
    customer = CustomerFactory(
        name="福州海峡机电设备有限公司", department=manager.department, primary_manager=manager
    )
    data = form_data(manager.department, name=customer.name, credit_code=customer.credit_code)
    data["notes"] = "季度核对完成"
    response = client_for(manager).post(reverse("accounts:customer_edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.notes == "季度核对完成"


def test_editing_cannot_move_managers_or_department(client_for, manager, manager2, north):
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    data = form_data(
        north, name=customer.name, credit_code=customer.credit_code, primary_manager=manager2.pk
    )
    client_for(manager).post(reverse("accounts:customer_edit", args=[customer.pk]), data)
    customer.refresh_from_db()
    assert (customer.department, customer.primary_manager) == (manager.department, manager)


# --- the unique constraint -----------------------------------------------------------------


def test_the_database_refuses_a_second_customer_with_the_same_code(east):
    CustomerFactory(credit_code=CODE, department=east)
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(name="另一家", credit_code=CODE, department=east)


def test_customers_without_a_code_do_not_collide(east):
    CustomerFactory(credit_code="", customer_type=CustomerType.INDIVIDUAL, department=east)
    CustomerFactory(credit_code="", customer_type=CustomerType.INDIVIDUAL, department=east)
    assert Customer.objects.filter(credit_code="").count() == 2


def test_the_factory_codes_are_unique_and_valid(east):
    first, second = CustomerFactory(department=east), CustomerFactory(department=east)
    assert first.credit_code != second.credit_code
    first.full_clean()
    assert valid_credit_code(0) != valid_credit_code(1)
