"""Who may see and do what: the URL × role matrix of every customer page and action.

Every pattern in accounts.urls is reversed with an object inside the user's scope and one
outside it. Outside scope is 404 (nothing leaks), an action the role lacks is 403, and an
anonymous visitor is sent to /login/.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts import urls as accounts_urls
from accounts.models import (
    AdmissionRequest,
    AssignmentChange,
    Contact,
    Customer,
    CustomerStatus,
    Handover,
    QualificationDocument,
    Transaction,
)
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    QualificationDocumentFactory,
    TransactionFactory,
    UserFactory,
)

ROLES = ["manager", "head", "finance", "executive", "admin_user", "outsider"]
# Excel import and export have their own matrix (tests/excel/test_exports.py,
# test_import_views.py) and the URL-wide access test (tests/prod/test_url_access.py).
COVERED_ELSEWHERE = {
    "customer_export",
    "contact_export",
    "transaction_export",
    "import_start",
    "import_template",
    "import_preview",
    "import_commit",
    "import_failed_rows",
}
URL_NAMES = [
    pattern.name for pattern in accounts_urls.urlpatterns if pattern.name not in COVERED_ELSEWHERE
]
POST_ONLY = {"document_verify", "admission_submit", "customer_dormant", "pool_claim"}
CUSTOMER_ARGS = {"pk", "contact_pk", "document_pk"}

OK_GET, OK_POST, DENIED, HIDDEN = 200, 302, 403, 404
_ALL_OK = dict.fromkeys(ROLES[:-1], "ok") | {"outsider": HIDDEN}
_KEEPERS = {  # the customer's managers, their head, and admins keep the archive
    "manager": "ok",
    "head": "ok",
    "finance": DENIED,
    "executive": DENIED,
    "admin_user": "ok",
    "outsider": HIDDEN,
}
_DECIDERS = _KEEPERS | {"manager": DENIED}  # the department head and admins
_VERIFIERS = _KEEPERS | {"manager": DENIED, "finance": "ok"}

# Expected outcome for an object inside the user's scope ("ok" is 200, or 302 for POST actions).
IN_SCOPE = {
    "customer_list": dict.fromkeys(ROLES, "ok"),
    "customer_create": _KEEPERS | {"outsider": DENIED},
    "customer_detail": _ALL_OK,
    "customer_edit": _KEEPERS,
    "contact_add": _KEEPERS,
    "contact_edit": _KEEPERS,
    "transaction_add": _KEEPERS,
    "document_add": _KEEPERS,
    "document_download": _ALL_OK,
    "document_verify": _VERIFIERS,
    "admission_submit": _KEEPERS,
    "admission_decide": _DECIDERS,
    "customer_assign": _DECIDERS,
    "customer_terminate": _DECIDERS,
    "customer_dormant": _KEEPERS,
    "handover_create": _DECIDERS | {"outsider": DENIED},
    "handover_detail": _ALL_OK,
    "pool": dict.fromkeys(ROLES, "ok"),
    # The customer has a manager: nobody may claim it (claims are tested in test_pool.py).
    # Those who see it are sent back to the pool with a message, as a lost race is.
    "pool_claim": dict.fromkeys(ROLES[:-1], DENIED)
    | {"outsider": HIDDEN, "manager": OK_POST, "head": OK_POST},
    "pool_release": _KEEPERS,
    "pool_lock": _DECIDERS,
}


def _out_of_scope(name: str, role: str):
    """Managers and heads of east see nothing of north; the rest see all or nothing."""
    takes_object = any(arg in CUSTOMER_ARGS for arg in _route_args(name))
    if takes_object and role in ("manager", "head"):
        return HIDDEN
    return IN_SCOPE[name][role]


def _route_args(name: str) -> list[str]:
    pattern = next(p for p in accounts_urls.urlpatterns if p.name == name)
    return list(pattern.pattern.converters)


def _expected_status(name: str, outcome) -> int:
    if outcome == "ok":
        return OK_POST if name in POST_ONLY else OK_GET
    return outcome


MATRIX = [
    pytest.param(name, role, scope, id=f"{name}-{role}-{scope}")
    for name in URL_NAMES
    for role in ROLES
    for scope in ("inside", "outside")
    if scope == "inside" or _route_args(name)
]


def _build_side(*, department, manager, head, assistant=None):
    """A customer awaiting admission with a contact, a document and a handover."""
    customer = CustomerFactory(
        department=department,
        primary_manager=manager,
        assistant_manager=assistant,
        status=CustomerStatus.PENDING_ADMISSION,
    )
    AdmissionRequest.objects.create(customer=customer, submitted_by=manager)
    departing = UserFactory(department=department, roles=["account_manager"])
    handover = Handover.objects.create(
        from_user=departing, to_user=manager, performed_by=head, reason="离职"
    )
    return SimpleNamespace(
        customer=customer,
        contact=ContactFactory(customer=customer),
        document=QualificationDocumentFactory(customer=customer),
        handover=handover,
    )


@pytest.fixture
def world(manager, manager2, head, other_manager, other_head, finance, executive, admin_user):
    return SimpleNamespace(
        inside=_build_side(department=manager.department, manager=manager, head=head),
        outside=_build_side(
            department=other_manager.department, manager=other_manager, head=other_head
        ),
    )


def url_for(name: str, side) -> str:
    args = _route_args(name)
    kwargs = {}
    for arg in args:
        if arg == "pk":
            kwargs[arg] = side.handover.pk if name.startswith("handover") else side.customer.pk
        elif arg == "contact_pk":
            kwargs[arg] = side.contact.pk
        elif arg == "document_pk":
            kwargs[arg] = side.document.pk
        else:  # pragma: no cover - a new URL argument needs a line here
            raise AssertionError(f"no object for <{arg}> in {name}")
    return reverse(f"accounts:{name}", kwargs=kwargs)


def test_the_matrix_covers_every_accounts_url():
    assert set(IN_SCOPE) == set(URL_NAMES)


@pytest.mark.parametrize(("name", "role", "scope"), MATRIX)
def test_access_matrix(request, world, client_for, name, role, scope):
    user = request.getfixturevalue(role)
    side = getattr(world, scope)
    outcome = IN_SCOPE[name][role] if scope == "inside" else _out_of_scope(name, role)
    client = client_for(user)
    url = url_for(name, side)
    response = client.post(url) if name in POST_ONLY else client.get(url)
    assert response.status_code == _expected_status(name, outcome)


@pytest.mark.parametrize("name", URL_NAMES)
def test_anonymous_visitors_are_sent_to_log_in(world, client, name):
    url = url_for(name, world.inside)
    response = client.post(url) if name in POST_ONLY else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_actions_refuse_get(world, client_for, admin_user, name):
    response = client_for(admin_user).get(url_for(name, world.inside))
    assert response.status_code == 405


def test_a_refused_post_changes_nothing(world, client_for, manager):
    customer = world.inside.customer
    response = client_for(manager).post(
        reverse("accounts:customer_terminate", args=[customer.pk]), {"reason": "不合作"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.PENDING_ADMISSION


def test_a_contact_of_another_customer_is_404_even_through_a_visible_customer(
    world, client_for, admin_user, manager
):
    # The contact exists and the customer is visible, but they do not belong together.
    url = reverse(
        "accounts:contact_edit", args=[world.inside.customer.pk, world.outside.contact.pk]
    )
    assert client_for(manager).get(url).status_code == 404
    assert client_for(admin_user).get(url).status_code == 404


def test_the_customer_list_shows_only_visible_customers(world, client_for, manager, finance):
    inside, outside = world.inside.customer, world.outside.customer
    mine = client_for(manager).get(reverse("accounts:customer_list"))
    assert list(mine.context["customers"]) == [inside]
    assert outside.name not in mine.content.decode()
    everything = client_for(finance).get(reverse("accounts:customer_list"))
    assert set(everything.context["customers"]) == {inside, outside}


def test_the_manager_filter_offers_only_colleagues(world, client_for, manager, other_manager):
    response = client_for(manager).get(reverse("accounts:customer_list"))
    offered = set(response.context["filter"].form.fields["manager"].queryset)
    assert manager in offered
    assert other_manager not in offered


# --- visible_to, role by role ------------------------------------------------------------


@pytest.fixture
def customers(manager, manager2, head, other_manager, executive):
    east = manager.department
    return SimpleNamespace(
        primary=CustomerFactory(department=east, primary_manager=manager),
        assistant=CustomerFactory(
            department=east, primary_manager=manager2, assistant_manager=manager
        ),
        colleague=CustomerFactory(department=east, primary_manager=manager2),
        unassigned=CustomerFactory(department=east),
        north=CustomerFactory(department=other_manager.department, primary_manager=other_manager),
        chief=CustomerFactory(
            department=other_manager.department,
            primary_manager=other_manager,
            chief_manager=executive,
        ),
    )


def _visible(user) -> set:
    return set(Customer.objects.visible_to(user))


def test_a_manager_sees_their_customers_and_their_departments_pool(customers, manager):
    # customers.unassigned has no manager: it is in the east pool, which managers may claim.
    assert _visible(manager) == {customers.primary, customers.assistant, customers.unassigned}


def test_a_terminated_customer_without_a_manager_is_not_in_the_pool(customers, manager):
    customers.unassigned.status = CustomerStatus.TERMINATED
    customers.unassigned.save()
    assert _visible(manager) == {customers.primary, customers.assistant}


def test_a_head_sees_their_whole_department(customers, head):
    assert _visible(head) == {
        customers.primary,
        customers.assistant,
        customers.colleague,
        customers.unassigned,
    }


def test_the_other_head_sees_only_their_department(customers, other_head):
    assert _visible(other_head) == {customers.north, customers.chief}


@pytest.mark.parametrize("role", ["finance", "executive", "admin_user"])
def test_finance_executives_and_admins_see_everything(request, customers, role):
    assert _visible(request.getfixturevalue(role)) == set(Customer.objects.all())


def test_an_outsider_sees_nothing(customers, outsider):
    assert _visible(outsider) == set()


def test_a_department_head_role_without_a_department_sees_nothing_extra(customers):
    stray_head = UserFactory(roles=["department_head"])
    assert _visible(stray_head) == set()


def test_an_inactive_manager_sees_nothing(customers, manager):
    manager.is_active = False
    manager.save()
    assert _visible(manager) == set()


def test_a_chief_manager_sees_their_accounts(customers):
    chief_only = UserFactory(roles=["account_manager"])
    customers.north.chief_manager = chief_only
    customers.north.save()
    assert _visible(chief_only) == {customers.north}


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (Contact, lambda customer: ContactFactory(customer=customer)),
        (Transaction, lambda customer: TransactionFactory(customer=customer)),
        (QualificationDocument, lambda customer: QualificationDocumentFactory(customer=customer)),
        (
            AssignmentChange,
            lambda customer: AssignmentChange.objects.create(
                customer=customer,
                role="primary_manager",
                new_user=customer.primary_manager,
                changed_by=customer.primary_manager,
                reason="test",
            ),
        ),
    ],
    ids=["contact", "transaction", "document", "assignment-change"],
)
def test_rows_of_a_customer_follow_the_customer(customers, manager, head, finance, model, make):
    mine = make(customers.primary)
    theirs = make(customers.north)
    assert set(model.objects.visible_to(manager)) == {mine}
    assert set(model.objects.visible_to(head)) == {mine}
    assert set(model.objects.visible_to(finance)) == {mine, theirs}
