"""Every URL of the app, for every role and an anonymous visitor.

The URLs come from the URL configuration itself (get_resolver), so a page added later by any
app is covered without touching this file. Each URL parameter is filled with the id of an
object inside the user's scope, outside it, and of no object at all (the anonymous visitor gets
the same real objects as a manager):

- anonymous visitors are sent to the log-in page (the admin's for /admin/), except for the
  few public pages;
- an object outside the user's scope answers 404 to GET and POST alike, and a POST changes
  nothing (405 is accepted where the method itself is refused before any lookup; 403 where
  the object's existence is no secret: a company-wide run or report, another user's upload);
- an id of no object is never a 200;
- nothing ever answers 500 (the test client re-raises any exception);
- no page that answers 200 has an inline script, an on…= handler or a style attribute, which
  the Content-Security-Policy would block.

Every parameter is filled with a real object: the objects are built once for the module
(through the services and tests/<app>/factories.py) for a customer of each department, and a
parameter names its model by convention (the app's model named by the URL or the parameter) or
in ROUTE_MODELS. Objects the company shares (grading runs, scoring models, reports) have rules
of their own in COMPANY_WIDE: who may see them and who is refused. A parameter that cannot be
filled with a real object fails the test: teach it below.

What "outside the scope" is follows the customer: for a head, another department's customer;
for a manager, a customer they do not manage (one of their own department's included); finance,
executives and admins see every customer, so only the company-wide rules apply to them.
"""

from __future__ import annotations

import datetime
import importlib
import re
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from accounts import imports
from accounts.models import Customer, CustomerStatus, Handover
from accounts.permissions import Role
from notifications.services import notify
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DepartmentFactory,
    QualificationDocumentFactory,
    TransactionFactory,
    UserFactory,
)

MISSING_ID = 987654321
# scoped: the user's scope applies (outside: 404); refused: the user may not have it, and the
# object's existence is no secret (outside: 403 or 404); known: no scope, only "never 500".
SCOPED, REFUSED, KNOWN, UNKNOWN = "scoped", "refused", "known", "unknown"
PROJECT_APPS = {
    "accounts", "notifications", "tiers", "visits", "complaints", "contracts", "dashboard"
}  # fmt: skip
# Reachable without logging in: (path, acceptable statuses).
PUBLIC = {
    "/login/": {200},
    "/healthz": {200},
    "/i18n/setlang/": {302},  # redirects back; changes the language only on POST
    "/logout/": {405},  # POST only
    "/admin/login/": {200},
    "/admin/logout/": {302, 405},
}
ROLES = [
    "anonymous",
    "outsider",
    "manager",
    "manager2",
    "head",
    "other_manager",
    "other_head",
    "finance",
    "executive",
    "admin_user",
]

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class Route:
    """One URL pattern, flattened: its full route with <converter:name> placeholders."""

    route: str
    namespace: str | None
    name: str | None
    admin: bool
    params: list[tuple[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.namespace}:{self.name}" if self.namespace else str(self.name)


def _route_text(pattern) -> str:
    """Return a pattern's route; regex patterns are turned into <name> placeholders."""
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    regex = pattern.regex.pattern.lstrip("^").rstrip("$")
    regex = re.sub(r"\(\?P<(\w+)>([^)]*)\)", lambda m: f"<re:{m.group(1)}={m.group(2)}>", regex)
    counter = iter(range(1, 10))
    return re.sub(r"\(([^)?][^)]*)\)", lambda m: f"<re:group{next(counter)}>", regex)


def all_routes(patterns=None, prefix: str = "", namespace=None, admin=False) -> list[Route]:
    """Walk the URL configuration recursively and return every pattern with its full route."""
    routes: list[Route] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + _route_text(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            routes += all_routes(
                pattern.url_patterns, text, ns, admin or pattern.namespace == "admin"
            )
        elif isinstance(pattern, URLPattern):
            params = [(m["converter"] or "str", m["name"]) for m in _PARAM.finditer(text)]
            routes.append(Route("/" + text, namespace, pattern.name, admin, params))
    return routes


class World:
    """Two customers, one per department, each with an object of every kind a URL names."""

    def __init__(self, users: dict):
        self.users = users
        # Active and graded, so that every app's services accept them.
        self.east = CustomerFactory(
            department=users["head"].department,
            primary_manager=users["manager"],
            status=CustomerStatus.ACTIVE,
            tier="B",
        )
        self.north = CustomerFactory(
            department=users["other_head"].department,
            primary_manager=users["other_manager"],
            status=CustomerStatus.ACTIVE,
            tier="B",
        )
        self.run = _published_run()
        self.stashes = {}
        for customer, head in ((self.east, users["head"]), (self.north, users["other_head"])):
            manager = customer.primary_manager
            ContactFactory(customer=customer)
            TransactionFactory(customer=customer)
            QualificationDocumentFactory(customer=customer)
            _build_for_customer(customer, manager, head, users["finance"], self.run)
            self.stashes[manager.username] = _stash(manager)
        self.handover = Handover.objects.create(
            from_user=users["manager"],
            to_user=users["manager2"],
            performed_by=users["head"],
            reason="Transfer",
        )
        self.notifications = {
            user.username: notify(recipient=user, message="Note", email=False)
            for user in users.values()
        }
        self.unresolved: set[str] = set()

    def customer_for(self, user, scope: str) -> Customer | None:
        visible = set(Customer.objects.visible_to(user).values_list("pk", flat=True))
        for customer in (self.east, self.north):
            if (customer.pk in visible) == (scope == "inside"):
                return customer
        return None

    # -- parameter values -------------------------------------------------------------------
    def value(self, route: Route, converter: str, name: str, user, scope: str):
        """Return (value, kind); kind is "scoped" (the user's scope applies to the object),
        "known" (an object, not scoped by customer) or "unknown" (nothing to go on)."""
        if scope == "missing":
            _, kind = self.value(route, converter, name, user, "inside")
            return self._missing(converter, name), kind
        if route.admin:
            return self._admin_value(route, name), KNOWN
        customer = self.customer_for(user, scope)
        known = self._known(route, name, user, scope, customer)
        if known is not None:
            return known
        return self._by_convention(route, converter, name, user, scope, customer)

    def _missing(self, converter: str, name: str):
        if name.startswith("re:") and "=" in name:  # regex alternatives: take the first
            return name.split("=", 1)[1].split("|")[0].replace(".*", "missing/")
        return MISSING_ID if converter in ("int", "path", "str", "re") else "missing"

    def _known(self, route: Route, name: str, user, scope: str, customer):
        rule = COMPANY_WIDE.get(route.label)
        if rule is not None:
            return rule(self, user, scope)
        if route.namespace == "accounts" and route.name == "handover_detail":
            sees = user.username in {"admin", "gm", "finance", "head_east", "am_east1", "am_east2"}
            if scope == "inside":
                return (self.handover.pk, KNOWN) if sees else (None, KNOWN)
            return (self.handover.pk, SCOPED) if not sees else (None, KNOWN)
        if route.namespace == "notifications" and name == "pk":
            mine = self.notifications[user.username]
            other = next(n for u, n in self.notifications.items() if u != user.username)
            return (mine.pk, KNOWN) if scope == "inside" else (other.pk, SCOPED)
        if route.namespace == "accounts" and name in ("pk", "contact_pk", "document_pk"):
            if customer is None:
                return None, KNOWN
            if name == "pk":
                return customer.pk, SCOPED
            related = customer.contacts if name == "contact_pk" else customer.documents
            return related.first().pk, SCOPED
        return None

    def _admin_value(self, route: Route, name: str):
        model = _admin_model(route)
        if name.startswith("re:") and "=" in name:
            return name.split("=", 1)[1].split("|")[0].replace(".*", "missing/")
        if model is not None and name in ("object_id", "id", "re:group1"):
            obj = model._default_manager.order_by("pk").first()
            return obj.pk if obj else MISSING_ID
        return 1

    def _by_convention(self, route, converter, name, user, scope, customer):
        """Find the model a parameter names in its app; create one through its factory."""
        if (route.namespace, name) in KNOWN_VALUES:
            return KNOWN_VALUES[(route.namespace, name)], KNOWN
        label = ROUTE_MODELS.get((route.label, name))
        model = apps.get_model(label) if label else _guess_model(route, name)
        if model is None:
            self.unresolved.add(f"{route.route} ({route.label}): <{name}>")
            return self._missing(converter, name), UNKNOWN
        if model is Customer:
            return (customer.pk, SCOPED) if customer else (None, KNOWN)
        customer_field = _customer_field(model)
        if customer_field is None:  # not scoped by customer: only "never 500" applies
            obj = model._default_manager.order_by("pk").first() or _make(model, {})
            if obj is None:
                self.unresolved.add(f"{route.route}: no {model.__name__} to use for <{name}>")
                return MISSING_ID, UNKNOWN
            return obj.pk, KNOWN
        if customer is None:
            return None, KNOWN
        mine = model._default_manager.filter(**{customer_field: customer}).order_by("pk")
        if not mine.exists():
            _make_for_customer(model, customer_field, customer)
        obj = mine.first()
        if obj is None:
            self.unresolved.add(f"{route.route}: cannot make a {model.__name__} for <{name}>")
            return self._missing(converter, name), UNKNOWN
        return obj.pk, SCOPED


def _admin_model(route: Route):
    match = re.match(r"(\w+?)_(\w+?)_(changelist|add|history|delete|change|simple_history)$",
                     route.name or "")  # fmt: skip
    if not match:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def _guess_model(route: Route, name: str):
    if not route.namespace:
        return None
    try:
        app_models = list(apps.get_app_config(route.namespace).get_models())
    except LookupError:
        return None
    by_name = {model._meta.model_name: model for model in app_models}
    if name in ("pk", "id") or name.endswith(("_pk", "_id")):
        base = "" if name in ("pk", "id") else name.rsplit("_", 1)[0]
        words = base.split("_") if base else (route.name or "").split("_")
        for end in range(len(words), 0, -1):
            candidate = "".join(words[:end]).lower()
            if candidate in by_name:
                return by_name[candidate]
            # "step" names ApprovalStep when it is the only model ending so
            suffixed = [m for n, m in by_name.items() if n.endswith(candidate)]
            if base and len(suffixed) == 1:
                return suffixed[0]
        singular = route.namespace.removesuffix("s")  # contracts:detail <pk> is a contract
        if name in ("pk", "id") and singular in by_name:
            return by_name[singular]
        if base and base.replace("_", "") in {"customer"}:
            return Customer
    return None


def _customer_field(model, depth: int = 1) -> str | None:
    """Return the lookup from model to its customer ("customer", "contract__customer")."""
    foreign_keys = [f for f in model._meta.get_fields() if isinstance(f, models.ForeignKey)]
    for model_field in foreign_keys:
        if model_field.related_model is Customer:
            return model_field.name
    if depth:
        for model_field in foreign_keys:
            if model_field.related_model._meta.app_label == model._meta.app_label:
                inner = _customer_field(model_field.related_model, depth - 1)
                if inner:
                    return f"{model_field.name}__{inner}"
    return None


def _contract_maker(customer):
    from tests.contracts.factories import submitted_contract

    return submitted_contract(owner=customer.primary_manager, customer=customer)


def _complaint_maker(customer):
    from django.utils import timezone

    from complaints import services

    return services.complaint_create(
        created_by=customer.primary_manager,
        customer=customer,
        channel="phone",
        category="delivery",
        severity="high",
        description="Late delivery",
        received_at=timezone.now(),
    )


def _published_run():
    """A published grading run whose appeal window is open (runs belong to the company)."""
    from tests.dashboard.factories import run
    from tiers.models import GradingRun

    published = run("2026Q3")
    GradingRun.objects.filter(pk=published.pk).update(
        published_at=timezone.now(), appeal_deadline=timezone.now() + datetime.timedelta(days=14)
    )
    published.refresh_from_db()
    return published


def _build_for_customer(customer, manager, head, finance, run) -> None:
    """Give a customer an object of every kind a URL names, through the services."""
    from contracts import services as contract_services
    from tests.dashboard.factories import grade, plan, record
    from tests.receivables.factories import contract_in_force, pay
    from tiers import services as tier_services
    from visits.models import CareTask

    today = timezone.localdate()
    _contract_maker(customer)  # first, so that a contract's <step_pk> is one of its own steps
    due = today + datetime.timedelta(days=30)
    in_force = contract_in_force(
        manager=manager, head=head, customer=customer, plan=[(due, "300000.00")]
    )
    pay(in_force, manager, "1000.00", today)  # an unconfirmed collection
    contract_services.credit_override_grant(
        customer=customer, granted_by=finance, max_amount="5000.00", reason="Large order"
    )
    _complaint_maker(customer)
    appealed = grade(run, customer, "B")
    tier_services.appeal_file(
        grade=appealed, filed_by=manager, reason="New contract", requested_tier="A"
    )
    plan(customer, manager, today + datetime.timedelta(days=7))
    record(customer, manager, today)
    CareTask.objects.create(
        customer=customer,
        kind="holiday",
        due_date=today + datetime.timedelta(days=3),
        assigned_to=manager,
        key=f"url-access:{customer.pk}",
    )


def _stash(user) -> str:
    """An import upload waiting in the user's stash; its token is the URL's <token>."""
    return imports.stash_save(
        user=user,
        kind="customers",
        filename="customers.xlsx",
        sheets=[],
        summary=imports.summarise({}),
    )


def _is_staff_member(user) -> bool:
    """Anyone with a role: the company's runs and reports are theirs, not an outsider's."""
    from accounts.permissions import is_admin, role_names

    return bool(role_names(user)) or is_admin(user)


def _company_wide(value_of):
    """A rule for an object the company shares: every member of staff has it (inside), and
    for the outsider, who has no role, it is outside and refused."""

    def rule(world, user, scope):
        staff = _is_staff_member(user)
        if scope == "inside":
            return (value_of(world), KNOWN) if staff else (None, KNOWN)
        return (None, KNOWN) if staff else (value_of(world), REFUSED)

    return rule


def _stash_rule(world, user, scope):
    """An upload is its uploader's own: another user's token is refused (403 or 404)."""
    own = world.stashes.get(user.username)
    if scope == "inside":
        return own, KNOWN
    return next(t for name, t in world.stashes.items() if name != user.username), REFUSED


_run = _company_wide(lambda world: world.run.pk)
_report = _company_wide(lambda world: "tiers")
# Routes whose objects are not scoped by customer: route label -> rule(world, user, scope).
COMPANY_WIDE = {
    "tiers:run_detail": _run,
    "tiers:run_start_review": _run,
    "tiers:run_publish": _run,
    "tiers:run_close": _run,
    "dashboard:report": _report,
    "dashboard:report_export": _report,
    "accounts:import_preview": _stash_rule,
    "accounts:import_commit": _stash_rule,
    "accounts:import_failed_rows": _stash_rule,
}
# Parameters whose model the convention cannot tell: (route label, parameter) -> model.
ROUTE_MODELS = {
    ("complaints:follow_up_add", "pk"): "complaints.Complaint",
    ("contracts:collection_add", "pk"): "contracts.Contract",
    ("contracts:collection_confirm", "pk"): "contracts.Collection",
    ("contracts:credit_override", "pk"): "accounts.Customer",
    ("tiers:grade_override", "pk"): "tiers.Grade",
    ("tiers:grade_appeal", "pk"): "tiers.Grade",
    ("tiers:appeal_detail", "pk"): "tiers.Appeal",
    ("tiers:customer_assess", "pk"): "accounts.Customer",
    ("tiers:model_detail", "pk"): "tiers.ScoringModel",  # the published rules: every user's
    ("visits:care_task_done", "pk"): "visits.CareTask",
    ("visits:plan_move", "pk"): "visits.PlannedVisit",
    ("visits:plan_cancel", "pk"): "visits.PlannedVisit",
    ("visits:record_detail", "pk"): "visits.VisitRecord",
}


# How to make, for a customer, an object of a model whose factory is not <Model>Factory.
MAKERS = {"contracts.Contract": _contract_maker, "complaints.Complaint": _complaint_maker}
# Values of parameters that are not ids: (namespace, parameter) -> value.
KNOWN_VALUES = {("contracts", "kind"): "text", ("accounts", "kind"): "customers"}


def _make_for_customer(model, customer_field: str, customer) -> None:
    """Create an object hanging off customer: a maker, a factory, or first its parent."""
    if "__" in customer_field:  # e.g. a step of a contract: make the contract, which has steps
        parent = model._meta.get_field(customer_field.split("__")[0]).related_model
        _make_for_customer(parent, customer_field.split("__", 1)[1], customer)
        return
    maker = MAKERS.get(model._meta.label)
    try:
        if maker is not None:
            maker(customer)
            return
    except Exception:
        return
    _make(model, {customer_field: customer})


def _make(model, kwargs: dict):
    """Create one object through tests/<app>/factories.py <Model>Factory, if there is one."""
    try:
        module = importlib.import_module(f"tests.{model._meta.app_label}.factories")
        factory = getattr(module, f"{model.__name__}Factory")
        return factory(**kwargs)
    except Exception:
        return None


def _fill(route: Route, values: dict[str, object]) -> str:
    def replace(match):
        return str(values[match["name"]])

    return _PARAM.sub(replace, route.route)


def project_row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    }


ADMIN_LOGIN = "/admin/login/"
LOGIN = "/login/"


def _users() -> dict:
    """The standard users of tests/conftest.py, made here because the world is per module."""
    east = DepartmentFactory(name="华东大客户部", code="east")
    north = DepartmentFactory(name="华北大客户部", code="north")
    users = {
        "outsider": UserFactory(username="outsider"),
        "manager": UserFactory(username="am_east1", department=east, roles=[Role.ACCOUNT_MANAGER]),
        "manager2": UserFactory(username="am_east2", department=east, roles=[Role.ACCOUNT_MANAGER]),
        "head": UserFactory(username="head_east", department=east, roles=[Role.DEPARTMENT_HEAD]),
        "other_manager": UserFactory(
            username="am_north1", department=north, roles=[Role.ACCOUNT_MANAGER]
        ),
        "other_head": UserFactory(
            username="head_north", department=north, roles=[Role.DEPARTMENT_HEAD]
        ),
        "finance": UserFactory(username="finance", roles=[Role.FINANCE]),
        "executive": UserFactory(username="gm", roles=[Role.EXECUTIVE]),
        "admin_user": UserFactory(username="admin", is_superuser=True, is_staff=True),
    }
    for department, head in ((east, users["head"]), (north, users["other_head"])):
        department.head = head
        department.save(update_fields=["head"])
    return users


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for every role: built once, rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = World(_users())
        yield built
        transaction.set_rollback(True)


def test_the_walk_finds_the_known_pages():
    labels = {route.label for route in all_routes()}
    for expected in ("accounts:customer_detail", "accounts:document_download", "healthz"):
        assert expected in labels
    assert len(labels) > 30


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_file_leaks_to_anyone_outside_its_scope(role, world):
    user = None if role == "anonymous" else world.users[role]
    world.unresolved = set()
    client = Client()
    if user is not None:
        client.force_login(user)
    failures: list[str] = []
    checked = 0

    # First every URL with its values (objects are made here), then the requests.
    plan = []
    for route in all_routes():
        scopes = ["inside", "outside", "missing"] if route.params else ["none"]
        for scope in scopes:
            values, kinds = {}, set()
            if route.params:
                # The anonymous visitor is tried on a manager's real objects (inside: east's,
                # outside: north's); they must log in before any of them is looked up.
                lens = user or world.users["manager"]
                for converter, name in route.params:
                    value, kind = world.value(route, converter, name, lens, scope)
                    values[name], _ = value, kinds.add(kind)
                if None in values.values():
                    continue  # e.g. no customer outside the scope of an executive
            scoped = bool({SCOPED, REFUSED} & kinds) and UNKNOWN not in kinds
            refusal = {403, 404, 405} if REFUSED in kinds else {404, 405}
            if scope == "missing" and UNKNOWN in kinds:
                scope = "unknown"  # an unknown parameter: only "never 500" is checked
            plan.append((route, _fill(route, values), scope, scoped, refusal))

    before = project_row_counts()
    for route, url, scope, scoped, refusal in plan:
        response = client.get(url)
        checked += 1
        failures += _judge(route, url, "GET", response, user, scope, scoped, refusal)
        if user is not None and scope == "outside" and scoped and not route.admin:
            response = client.post(url, {})
            checked += 1
            failures += _judge(route, url, "POST", response, user, scope, scoped, refusal)

    if user is not None:
        after = project_row_counts()
        # GET never writes; the only POSTs went to objects outside the scope.
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        changed.pop("notifications.Notification", None)  # marking read happens inside scope
        changed.pop("accounts.DataTransferLog", None)  # exports (GET) are logged on purpose
        assert changed == {}, f"rows written by GET or refused POST: {changed}"
    assert not world.unresolved, (
        "URL parameters with no real object to fill them (teach tests/prod/test_url_access.py):"
        + "".join(f"\n  {item}" for item in sorted(world.unresolved))
    )
    assert checked > 40
    assert failures == [], f"{len(failures)} of {checked} requests failed:\n" + "\n".join(failures)


TAG = re.compile(r"<[a-zA-Z][^>]*>")
QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"\sstyle\s*=", re.I)


def csp_violations(html: str, *, admin: bool) -> list[str]:
    """Return what in the page the policy ('self' only, nothing inline) would refuse."""
    found = []
    for tag in TAG.findall(html):
        bare = QUOTED.sub('""', tag)  # attribute values may quote anything, escaped
        external_script = bare.startswith("<script") and " src=" in bare
        if bare.startswith(("<script", "<style")) and not external_script:
            found.append(tag)
        elif HANDLER.search(bare) or (STYLE.search(bare) and not admin):
            # django-simple-history's admin template has one cosmetic style="" (admin only)
            found.append(tag)
    return found[:3]


def _judge(route, url, method, response, user, scope, scoped, refusal) -> list[str]:
    status = response.status_code
    where = f"{method} {url} ({route.label}, {scope})"
    location = response.get("Location", "")
    if user is None:
        if route.route in PUBLIC or url in PUBLIC:
            allowed = PUBLIC.get(route.route) or PUBLIC.get(url)
            return [] if status in allowed else [f"{where}: public page answered {status}"]
        login = ADMIN_LOGIN if route.admin else LOGIN
        if status == 302 and location.startswith(login):
            return []
        if status in (404, 405):  # refused before any lookup, or none() for anonymous: no leak
            return []
        if route.admin and status == 404:  # the admin's catch-all for unknown pages
            return []
        return [f"{where}: anonymous got {status} {location}, not a redirect to {login}"]
    if route.admin and not user.is_staff:
        if route.route in PUBLIC:
            return []
        ok = (status == 302 and location.startswith(ADMIN_LOGIN)) or status == 404
        return [] if ok else [f"{where}: non-staff got {status} from the admin"]
    if status == 200 and response.get("Content-Type", "").startswith("text/html"):
        problems = csp_violations(response.content.decode(), admin=route.admin)
        if problems:
            return [f"{where}: the Content-Security-Policy would block {problems}"]
    if scope == "outside" and scoped:
        return [] if status in refusal else [f"{where}: outside the scope answered {status}"]
    if scope == "missing":
        ok = status in (302, 403, 404, 405) if route.admin else status in (403, 404, 405)
        return [] if ok else [f"{where}: an id of no object answered {status}"]
    return [] if status < 500 else [f"{where}: answered {status}"]


@pytest.mark.django_db
def test_uploaded_files_have_no_public_url(world):
    manager, admin_user = world.users["manager"], world.users["admin_user"]
    document = world.east.documents.first()
    logged_in = []
    for user in (manager, admin_user):
        logged_in.append(Client())
        logged_in[-1].force_login(user)
    for client in (Client(), *logged_in):
        assert client.get(f"/media/{document.file.name}").status_code == 404
    download = f"/customers/{world.east.pk}/documents/{document.pk}/download/"
    assert logged_in[0].get(download).status_code == 200
    assert Client().get(download).status_code == 302
