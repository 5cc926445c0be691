"""Bad input on the forms and URL parameters, beyond tests/accounts/test_bad_input.py.

Oversized fields and bodies, wrong types and unknown ids in URLs and query strings, script in
text fields (shown escaped), and every POST without its CSRF token: each gets a clear response
(a form error, 400, 403 or 404, never a 500) and writes nothing.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from accounts.models import Contact, Customer, CustomerStatus, CustomerType, Handover
from notifications.services import notify
from tests.factories import ContactFactory, CustomerFactory, QualificationDocumentFactory
from tests.helpers import assert_in_page
from tests.prod.test_url_access import MISSING_ID, all_routes

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"accounts", "notifications", "tiers", "visits", "complaints", "contracts"}
    }


@contextmanager
def nothing_written():
    before = row_counts()
    yield
    assert row_counts() == before


@pytest.fixture
def customer(manager):
    return CustomerFactory(
        department=manager.department, primary_manager=manager, status=CustomerStatus.ACTIVE
    )


def customer_data(department, **overrides) -> dict:
    data = {
        "name": "泉州刺桐纺织有限公司",
        "customer_type": CustomerType.ENTERPRISE,
        "industry": "manufacturing",
        "source_channel": "referral",
        "department": department.pk,
        "credit_terms": "credit",
        "credit_limit": "500000",
    }
    return data | overrides


# --- oversized fields and bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [("name", "名" * 201, 200), ("short_name", "x" * 51, 50), ("address", "路" * 256, 255)],
)
def test_an_oversized_customer_field_is_explained(client_for, manager, field, value, limit):
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:customer_create"), customer_data(manager.department, **{field: value})
        )
    assert response.status_code == 200
    (error,) = response.context["form"].errors.as_data()[field]
    assert error.code == "max_length"
    assert error.params["limit_value"] == limit
    assert_in_page(response, response.context["form"].errors[field][0])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1" * 15, "max_digits"),
        ("1e400", "max_digits"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        ("0.001", "max_decimal_places"),
    ],
)
def test_an_out_of_range_amount_is_explained(client_for, manager, customer, value, code):
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:transaction_add", args=[customer.pk]),
            {"date": "2026-05-10", "amount": value, "profit": "0"},
        )
    assert response.status_code == 200
    assert [error.code for error in response.context["form"].errors.as_data()["amount"]] == [code]
    assert_in_page(response, response.context["form"].errors["amount"][0])


def test_a_body_over_the_upload_limit_is_a_400(client_for, manager, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    client = client_for(manager)
    with nothing_written():
        response = client.post(
            reverse("accounts:customer_create"),
            customer_data(manager.department, notes="x" * (65 * 1024)),
        )
    assert response.status_code == 400


def test_too_many_fields_is_a_400(client_for, manager):
    client = client_for(manager)
    data = customer_data(manager.department) | {f"f{i}": "x" for i in range(1100)}
    with nothing_written():
        response = client.post(reverse("accounts:customer_create"), data)
    assert response.status_code == 400


# --- script in text fields -----------------------------------------------------------------


def test_script_in_text_fields_is_stored_as_typed_and_shown_escaped(client_for, manager):
    client = client_for(manager)
    response = client.post(
        reverse("accounts:customer_create"),
        customer_data(manager.department, name=SCRIPT, short_name=ATTRIBUTE, notes=SCRIPT),
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.name == SCRIPT
    ContactFactory(customer=customer, name=SCRIPT, title=ATTRIBUTE)
    pages = [
        reverse("accounts:customer_list"),
        reverse("accounts:customer_list") + "?q=" + SCRIPT,
        customer.get_absolute_url(),
        customer.get_absolute_url() + "?tab=contacts",
        customer.get_absolute_url() + "?tab=history",
        reverse("accounts:customer_edit", args=[customer.pk]),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        assert "<script>alert" not in html, page
        assert "<img src=x" not in html, page
        assert "&lt;script&gt;alert(" in html, page


def test_script_in_a_notification_is_shown_escaped(client_for, manager):
    notify(recipient=manager, message=SCRIPT, email=False)
    html = client_for(manager).get(reverse("notifications:list")).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


# --- wrong types and unknown ids in URLs and query strings ---------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/customers/abc/",
        "/customers/-1/",
        f"/customers/{MISSING_ID}/",
        "/customers/99999999999999999999999/",
        f"/customers/{MISSING_ID}/edit/",
        "/customers/1.5/",
        "/customers/%00/",
        "/customers/handovers/abc/",
        f"/customers/handovers/{MISSING_ID}/",
        "/notifications/abc/open/",
    ],
)
def test_a_wrong_or_unknown_id_in_the_url_is_a_404(client_for, admin_user, path):
    assert client_for(admin_user).get(path).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_child_id_is_a_404(client_for, manager, customer, method):
    other = CustomerFactory(department=manager.department, primary_manager=manager)
    contact = ContactFactory(customer=other)
    document = QualificationDocumentFactory(customer=other)
    client = client_for(manager)
    urls = [
        # the child exists, but belongs to another customer than the one in the URL
        reverse("accounts:contact_edit", args=[customer.pk, contact.pk]),
        reverse("accounts:document_download", args=[customer.pk, document.pk]),
        reverse("accounts:document_verify", args=[customer.pk, document.pk]),
        reverse("accounts:contact_edit", args=[customer.pk, MISSING_ID]),
        reverse("notifications:open", args=[MISSING_ID]),
    ]
    with nothing_written():
        for url in urls:
            status = getattr(client, method)(url, {"name": "x"}).status_code
            assert status in (404, 405) if method == "get" else status == 404, url


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "999999"},
        {"per_page": "1e9"},
        {"per_page": "-5"},
        {"status": "bogus"},
        {"tier": "Z"},
        {"department": "abc"},
        {"department": str(MISSING_ID)},
        {"manager": "99999999999999999999999"},
        {"ordering": "password"},
        {"ordering": "-primary_manager__password"},
        {"q": "x" * 10000},
        {"q": "%' OR 1=1 --"},
        {"province": "\x00"},
    ],
)
def test_bad_query_parameters_on_the_list_are_harmless(client_for, manager, customer, query):
    response = client_for(manager).get(reverse("accounts:customer_list"), query)
    # A page number that is no page is a 404, as for any list; anything else a 200.
    assert response.status_code == (404 if "page" in query else 200)
    if response.status_code == 200 and "q" not in query:
        # A bad filter value is ignored or explained, never widens the list.
        shown = {c.pk for c in response.context["customers"]}
        assert shown <= {customer.pk}


@pytest.mark.parametrize("tab", ["bogus", SCRIPT, "../../etc/passwd", ""])
def test_an_unknown_tab_falls_back_to_the_profile(client_for, manager, customer, tab):
    response = client_for(manager).get(customer.get_absolute_url(), {"tab": tab})
    assert response.status_code == 200
    assert response.context["tab"] == "profile"


# --- CSRF ----------------------------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused_and_writes_nothing(
    admin_user, manager, manager2, head
):
    """Every URL of the app, posted to with valid-looking data but no token: 403."""
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    contact = ContactFactory(customer=customer)
    document = QualificationDocumentFactory(customer=customer)
    handover = Handover.objects.create(
        from_user=manager, to_user=manager2, performed_by=head, reason="x"
    )
    note = notify(recipient=admin_user, message="n", email=False)
    ids = {
        ("accounts", "pk"): customer.pk,
        ("accounts", "contact_pk"): contact.pk,
        ("accounts", "document_pk"): document.pk,
        ("notifications", "pk"): note.pk,
    }
    data = customer_data(manager.department) | {
        "reason": "x",
        "decision": "approve",
        "comment": "x",
        "role": "assistant_manager",
        "user": manager2.pk,
        "from_user": manager.pk,
        "to_user": manager2.pk,
        "dormant": "1",
        "language": "en",
        "date": "2026-05-10",
        "amount": "1",
    }
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    refused = []
    with nothing_written():
        for route in all_routes():
            if route.admin and route.name not in ("index", "logout", None):
                continue
            values = {}
            for _converter, name in route.params:
                if route.name == "handover_detail":
                    values[name] = handover.pk
                else:
                    values[name] = ids.get((route.namespace, name), MISSING_ID)
            url = route.route
            for name, value in values.items():
                url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
            if "<" in url:
                continue  # e.g. the admin's catch-all
            response = client.post(url, data)
            refused.append((url, response.status_code))
    assert all(status == 403 for _url, status in refused), [r for r in refused if r[1] != 403]
    assert len(refused) > 20
    assert Contact.objects.count() == 1
    assert "_auth_user_id" in client.session  # the log-out without a token was refused too


def test_a_log_in_without_a_csrf_token_is_refused(manager):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": manager.username, "password": "x"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
