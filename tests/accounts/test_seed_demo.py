"""seed_demo: the small demo as it always was, and a realistic organisation and year at scale."""

from __future__ import annotations

import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Min

from accounts.management.commands import seed_demo
from accounts.models import Customer, Department, PoolPolicy, User
from accounts.permissions import Role
from complaints.models import Complaint, ReferenceCounter
from contracts.models import (
    ApprovalStep,
    Contract,
    ContractNumberCounter,
    ContractStatus,
    RoundOutcome,
    StepStatus,
)
from contracts.services import next_contract_number
from tiers.models import GradingRun
from visits.models import PlannedVisit, VisitRecord, VisitStatus

PASSWORD = "seed-pass-2026"


@pytest.fixture(scope="module")
def large_demo(django_db_setup, django_db_blocker):
    """3,000 customers with a department per 1,000: the scaled paths at a test's size.

    Seeded once for the module inside a transaction that is rolled back at the end.
    """
    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        patch.setattr(seed_demo, "CUSTOMERS_PER_DEPARTMENT", 1000)
        call_command("seed_demo", customers=3000, password=PASSWORD, force=True)
        yield
        transaction.set_rollback(True)


def numbers_by_year(values: list[str]) -> dict[int, list[int]]:
    years: dict[int, list[int]] = {}
    for value in values:
        _prefix, year, number = value.split("-")
        years.setdefault(int(year), []).append(int(number))
    return {year: sorted(numbers) for year, numbers in years.items()}


@pytest.mark.django_db
def test_the_small_demo_keeps_its_named_people_and_handful_of_cases():
    call_command("seed_demo", customers=60, password=PASSWORD, force=True)

    assert set(User.objects.values_list("username", flat=True)) == {
        username for username, *_rest in seed_demo.PEOPLE
    }
    assert set(Department.objects.values_list("code", flat=True)) == {"east", "north"}
    assert Complaint.objects.count() == 14
    assert Contract.objects.count() == 20
    assert GradingRun.objects.filter(published_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_it_prints_the_log_in_address_the_server_is_started_on():
    out = StringIO()
    call_command(
        "seed_demo", customers=5, password=PASSWORD, force=True, addr="0.0.0.0:8080", stdout=out
    )

    assert "Log in at http://0.0.0.0:8080/login/ as:" in out.getvalue()


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/login/"),
        ("8081", "http://127.0.0.1:8081/login/"),
        ("localhost:9000", "http://localhost:9000/login/"),
    ],
)
def test_the_log_in_address_follows_runservers_addrport(addr, url):
    assert seed_demo.login_url(addr) == url


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_passes_the_served_address_to_the_demo():
    root = Path(__file__).resolve().parents[2]
    commands = subprocess.run(
        ["make", "-n", "demo", "ADDR=127.0.0.1:8123"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert '--addr "127.0.0.1:8123"' in commands


@pytest.mark.django_db
def test_no_manager_owns_more_customers_than_the_pool_policy_allows(large_demo):
    cap = PoolPolicy.current().max_customers_per_manager
    books = dict(
        Customer.objects.exclude(primary_manager=None)
        .values_list("primary_manager__username")
        .annotate(count=Count("pk"))
    )

    assert max(books.values()) <= 200 <= cap
    for username in ("am_east1", "am_east2", "am_north1"):
        assert 100 <= books[username] <= 180


@pytest.mark.django_db
def test_assistant_managers_work_in_the_customers_department(large_demo):
    assisted = Customer.objects.exclude(assistant_manager=None)

    assert assisted.exists()
    assert not assisted.exclude(assistant_manager__department=F("department")).exists()
    assert not assisted.filter(assistant_manager=F("primary_manager")).exists()


@pytest.mark.django_db
def test_every_department_has_its_own_head(large_demo):
    departments = Department.objects.select_related("head")

    assert departments.count() == 3
    for department in departments:
        assert department.head.department == department
        assert department.head.groups.filter(name=Role.DEPARTMENT_HEAD).exists()
    assert Department.objects.get(code="east").head.username == "head_east"


@pytest.mark.django_db
def test_generated_managers_can_log_in_and_have_the_role(large_demo):
    generated = User.objects.filter(username__startswith="am_").exclude(
        username__in=["am_east1", "am_east2", "am_north1"]
    )

    assert generated.count() >= 3000 // 180 - 3
    assert not generated.exclude(groups__name=Role.ACCOUNT_MANAGER).exists()
    assert not generated.filter(department=None).exists()
    assert generated.first().check_password(PASSWORD)


@pytest.mark.django_db
def test_two_gradings_are_published(large_demo):
    runs = GradingRun.objects.filter(published_at__isnull=False)

    assert runs.count() == 2
    assert not Customer.objects.exclude(status="prospect").filter(tier="").exists()


@pytest.mark.django_db
def test_a_year_of_visits_respects_the_first_visit_rule(large_demo):
    firsts = VisitRecord.objects.values("customer").annotate(first=Min("pk"))
    first_visits = VisitRecord.objects.filter(pk__in=firsts.values("first"))

    assert VisitRecord.objects.count() > 3000
    assert not first_visits.annotate(staff=Count("participants")).filter(staff__lt=2).exists()
    completed = PlannedVisit.objects.filter(status=VisitStatus.COMPLETED)
    assert completed.count() == VisitRecord.objects.count()
    assert PlannedVisit.objects.filter(status=VisitStatus.PLANNED).exists()


@pytest.mark.django_db
def test_complaint_references_are_gap_free_and_continue_the_counter(large_demo):
    states = set(Complaint.objects.values_list("status", flat=True))
    years = numbers_by_year(Complaint.objects.values_list("reference", flat=True))

    assert Complaint.objects.count() >= 3000 * 0.03
    assert {"closed", "in_progress", "resolved"} <= states
    for year, numbers in years.items():
        assert numbers == list(range(1, len(numbers) + 1))
        assert ReferenceCounter.objects.get(year=year).last_number == len(numbers)


@pytest.mark.django_db
def test_contract_numbers_are_gap_free_and_the_next_one_follows(large_demo):
    years = numbers_by_year(Contract.objects.values_list("number", flat=True))

    assert Contract.objects.count() >= 150
    for year, numbers in years.items():
        assert numbers == list(range(1, len(numbers) + 1))
        assert ContractNumberCounter.objects.get(year=year).value == len(numbers)
    year = max(years)
    with transaction.atomic():
        assert next_contract_number(year) == f"HT-{year}-{len(years[year]) + 1:04d}"
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_contracts_past_approval_have_every_step_approved(large_demo):
    statuses = set(Contract.objects.values_list("status", flat=True))
    approved = Contract.objects.exclude(status__in=[ContractStatus.DRAFT, ContractStatus.PENDING])

    assert {ContractStatus.ACTIVE, ContractStatus.PENDING, ContractStatus.EXPIRED} <= statuses
    assert not approved.filter(rounds=None).exists()
    assert not approved.filter(rounds__outcome=RoundOutcome.PENDING).exists()
    last_rounds = approved.filter(rounds__outcome=RoundOutcome.APPROVED)
    assert last_rounds.count() == approved.count()
    undecided = ApprovalStep.objects.filter(
        contract__in=approved, round__outcome=RoundOutcome.APPROVED
    ).exclude(status=StepStatus.APPROVED)
    assert not undecided.exists()
    pending = Contract.objects.filter(status=ContractStatus.PENDING)
    assert not pending.exclude(steps__status=StepStatus.PENDING).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_it_leaves_the_visibility_map_set():
    """VACUUM, as autovacuum would: the list's keys are then read from the index alone."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    call_command("seed_demo", customers=10, password=PASSWORD, force=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'accounts_customer'"
        )
        assert cursor.fetchone() == (True,)
