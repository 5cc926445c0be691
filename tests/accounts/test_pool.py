"""The prospect pool (公海): claim, release, caps, lock and the automatic return of neglected
customers."""

from __future__ import annotations

import datetime
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.errors import BusinessRuleError
from accounts.models import (
    AssignmentChange,
    AssignmentKind,
    Customer,
    CustomerStatus,
    PoolPolicy,
    PoolReturnRule,
    PoolWarning,
)
from accounts.selectors import pool_returning_soon
from notifications.models import Notification
from tests.factories import CustomerFactory, TransactionFactory, UserFactory
from tests.helpers import page_messages, zh

TZ = timezone.get_default_timezone()
# A Monday morning in Shanghai; every dated test runs from here.
NOW = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
TODAY = NOW.date()


@pytest.fixture
def pooled(manager):
    return CustomerFactory(department=manager.department, primary_manager=None, name="无主客户")


def owned_since(customer, user, when):
    """Record that user took customer over at `when` (what the return rules count from)."""
    customer.primary_manager = user
    customer.save()
    AssignmentChange.objects.create(
        customer=customer,
        role="primary_manager",
        kind=AssignmentKind.CLAIM,
        new_user=user,
        changed_by=user,
        changed_at=when,
        reason="test",
    )
    return customer


# --- claim -----------------------------------------------------------------------------------


def test_a_manager_claims_a_pool_customer_and_it_is_recorded(manager, pooled):
    services.pool_claim(customer=pooled, user=manager)
    pooled.refresh_from_db()
    assert pooled.primary_manager == manager
    change = AssignmentChange.objects.get(customer=pooled)
    assert (change.kind, change.new_user, change.changed_by) == ("claim", manager, manager)


def test_a_customer_with_a_manager_cannot_be_claimed(manager, manager2):
    customer = CustomerFactory(department=manager.department, primary_manager=manager2)
    with pytest.raises(BusinessRuleError) as refused:
        services.pool_claim(customer=customer, user=manager)
    assert refused.value.message == zh("Another manager has just claimed this customer.")
    customer.refresh_from_db()
    assert customer.primary_manager == manager2
    assert not AssignmentChange.objects.filter(customer=customer).exists()


def test_a_manager_cannot_claim_from_another_departments_pool(other_manager, pooled):
    with pytest.raises(PermissionDenied):
        services.pool_claim(customer=pooled, user=other_manager)


def test_the_second_of_two_claims_gets_a_clear_message(manager, manager2, pooled):
    stale_copy = Customer.objects.get(pk=pooled.pk)
    services.pool_claim(customer=pooled, user=manager)
    with pytest.raises(BusinessRuleError) as refused:
        services.pool_claim(customer=stale_copy, user=manager2)
    assert refused.value.message == zh("Another manager has just claimed this customer.")
    pooled.refresh_from_db()
    assert pooled.primary_manager == manager
    assert AssignmentChange.objects.filter(customer=pooled).count() == 1


def test_the_owned_cap_refuses_a_claim(manager, pooled):
    PoolPolicy.objects.update(max_customers_per_manager=2)
    CustomerFactory.create_batch(2, department=manager.department, primary_manager=manager)
    with pytest.raises(BusinessRuleError) as refused:
        services.pool_claim(customer=pooled, user=manager)
    assert "2" in refused.value.message
    pooled.refresh_from_db()
    assert pooled.primary_manager is None


def test_terminated_customers_do_not_count_against_the_owned_cap(manager, pooled):
    PoolPolicy.objects.update(max_customers_per_manager=1)
    CustomerFactory(
        department=manager.department,
        primary_manager=manager,
        status=CustomerStatus.TERMINATED,
    )
    services.pool_claim(customer=pooled, user=manager)


@time_machine.travel(NOW, tick=False)
def test_the_daily_cap_refuses_the_claim_past_it_and_resets_the_next_day(manager):
    PoolPolicy.objects.update(max_claims_per_day=2)
    customers = CustomerFactory.create_batch(3, department=manager.department)
    services.pool_claim(customer=customers[0], user=manager)
    services.pool_claim(customer=customers[1], user=manager)
    with pytest.raises(BusinessRuleError) as refused:
        services.pool_claim(customer=customers[2], user=manager)
    assert refused.value.message == zh(
        "You have claimed %(count)d customers today, the most allowed per day.", count=2
    )
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        services.pool_claim(customer=customers[2], user=manager)


def test_a_head_assigns_from_the_pool_within_the_owned_cap(head, manager, manager2, pooled):
    PoolPolicy.objects.update(max_customers_per_manager=1)
    CustomerFactory(department=manager.department, primary_manager=manager)
    with pytest.raises(BusinessRuleError):
        services.customer_assign_manager(
            customer=pooled, role="primary_manager", user=manager, assigned_by=head, reason="x"
        )
    services.customer_assign_manager(
        customer=pooled, role="primary_manager", user=manager2, assigned_by=head, reason="分配"
    )
    change = AssignmentChange.objects.get(customer=pooled)
    assert (change.kind, change.new_user) == ("pool_assign", manager2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_managers_claiming_at_the_same_moment_one_gets_it(east):
    from accounts.permissions import Role

    managers = [
        UserFactory(username=f"am{i}", department=east, roles=[Role.ACCOUNT_MANAGER])
        for i in range(2)
    ]
    customer = CustomerFactory(department=east)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim(user):
        # Both have the pool customer in hand before either claims (the page open): loaded
        # after the barrier, a fast first claim could commit before the second even read it.
        in_pool = Customer.objects.get(pk=customer.pk)
        try:
            barrier.wait()
            services.pool_claim(customer=in_pool, user=user)
            outcomes.append("won")
        except BusinessRuleError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,)) for user in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(
        ["won", zh("Another manager has just claimed this customer.")]
    )
    assert AssignmentChange.objects.filter(customer=customer, kind="claim").count() == 1
    customer.refresh_from_db()
    assert customer.primary_manager in managers


# --- release and lock ------------------------------------------------------------------------


def test_a_manager_releases_their_customer_with_a_reason(manager, manager2):
    customer = CustomerFactory(
        department=manager.department, primary_manager=manager, assistant_manager=manager2
    )
    with pytest.raises(BusinessRuleError):
        services.pool_release(customer=customer, released_by=manager, reason="  ")
    services.pool_release(customer=customer, released_by=manager, reason="客户业务收缩")
    customer.refresh_from_db()
    assert (customer.primary_manager, customer.assistant_manager) == (None, None)
    kinds = set(AssignmentChange.objects.filter(customer=customer).values_list("kind", "role"))
    assert kinds == {("release", "primary_manager"), ("release", "assistant_manager")}


def test_another_manager_cannot_release_a_customer(manager, manager2):
    customer = CustomerFactory(department=manager.department, primary_manager=manager2)
    with pytest.raises(PermissionDenied):
        services.pool_release(customer=customer, released_by=manager, reason="x")


def test_only_a_head_locks_and_the_lock_needs_a_reason(head, manager):
    customer = CustomerFactory(department=manager.department, primary_manager=manager)
    with pytest.raises(PermissionDenied):
        services.customer_pool_lock(customer=customer, locked_by=manager, locked=True, reason="x")
    with pytest.raises(BusinessRuleError):
        services.customer_pool_lock(customer=customer, locked_by=head, locked=True, reason="")
    services.customer_pool_lock(customer=customer, locked_by=head, locked=True, reason="战略客户")
    customer.refresh_from_db()
    assert customer.pool_locked and customer.pool_lock_reason == "战略客户"


# --- automatic return ------------------------------------------------------------------------


def run(day):
    return services.pool_return_run(today=day)


@pytest.fixture
def rules(db):
    """The default rules: prospects 30 days, D 90, C 120 without contact; A and B never."""
    return {rule.scope: rule for rule in PoolReturnRule.objects.all()}


@pytest.mark.parametrize(
    ("status", "tier", "days"),
    [
        (CustomerStatus.PROSPECT, "", 30),
        (CustomerStatus.ACTIVE, "D", 90),
        (CustomerStatus.ACTIVE, "C", 120),
        (CustomerStatus.DORMANT, "C", 120),
    ],
)
def test_each_contact_rule_returns_on_its_boundary_day(rules, manager, head, status, tier, days):
    customer = CustomerFactory(department=manager.department, status=status, tier=tier)
    owned_since(customer, manager, NOW - timedelta(days=days - 1))
    assert run(TODAY) == {"warned": 1, "returned": 0}  # one day before: warned, kept
    customer.refresh_from_db()
    assert customer.primary_manager == manager
    assert run(TODAY + timedelta(days=1)) == {"warned": 0, "returned": 1}  # day N: returned
    customer.refresh_from_db()
    assert customer.primary_manager is None
    change = AssignmentChange.objects.get(customer=customer, kind="pool_return")
    assert change.old_user == manager
    assert str(days) in change.reason
    recipients = set(
        Notification.objects.filter(dedup_key__startswith="pool-return").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {manager.username, head.username}


@pytest.mark.parametrize("tier", ["A", "B"])
def test_a_and_b_customers_never_return(rules, manager, tier):
    customer = CustomerFactory(department=manager.department, status="active", tier=tier)
    owned_since(customer, manager, NOW - timedelta(days=2000))
    assert run(TODAY) == {"warned": 0, "returned": 0}


def test_the_warning_comes_seven_days_before_and_not_earlier(rules, manager):
    customer = CustomerFactory(department=manager.department, status="active", tier="D")
    owned_since(customer, manager, NOW - timedelta(days=90 - 8))
    assert run(TODAY) == {"warned": 0, "returned": 0}  # returns in 8 days: too early
    assert run(TODAY + timedelta(days=1)) == {"warned": 1, "returned": 0}  # 7 days before
    warning = PoolWarning.objects.get()
    assert warning.returns_on == TODAY + timedelta(days=8)
    assert list(pool_returning_soon(manager, today=TODAY + timedelta(days=1))) == [warning]


def test_a_transaction_rule_returns_on_its_boundary_day(rules, manager):
    rule = rules["D"]
    rule.days_without_contact = None
    rule.days_without_transaction = 60
    rule.save()
    customer = CustomerFactory(department=manager.department, status="active", tier="D")
    owned_since(customer, manager, NOW - timedelta(days=400))
    TransactionFactory(customer=customer, date=TODAY - timedelta(days=59))
    assert run(TODAY)["returned"] == 0
    assert run(TODAY + timedelta(days=1))["returned"] == 1


def test_a_locked_customer_does_not_return(rules, manager):
    customer = CustomerFactory(
        department=manager.department, status="active", tier="D", pool_locked=True
    )
    owned_since(customer, manager, NOW - timedelta(days=400))
    assert run(TODAY) == {"warned": 0, "returned": 0}


def test_the_job_run_twice_warns_and_returns_each_customer_once(rules, manager, mailoutbox):
    warned = CustomerFactory(department=manager.department, status="active", tier="D")
    owned_since(warned, manager, NOW - timedelta(days=85))
    returned = CustomerFactory(department=manager.department, status="active", tier="D")
    owned_since(returned, manager, NOW - timedelta(days=95))
    assert run(TODAY) == {"warned": 1, "returned": 1}
    assert run(TODAY) == {"warned": 0, "returned": 0}
    assert PoolWarning.objects.count() == 1
    assert AssignmentChange.objects.filter(kind="pool_return").count() == 1
    assert Notification.objects.filter(recipient=manager).count() == 2


def test_the_job_runs_a_fixed_number_of_queries(rules, manager, django_assert_max_num_queries):
    for days in (85, 95, 200):
        customer = CustomerFactory(department=manager.department, status="active", tier="D")
        owned_since(customer, manager, NOW - timedelta(days=days))
    with django_assert_max_num_queries(25) as few:
        run(TODAY)
    for days in range(80, 140):
        customer = CustomerFactory(department=manager.department, status="active", tier="C")
        owned_since(customer, manager, NOW - timedelta(days=days + 50))
    with django_assert_max_num_queries(len(few.captured_queries) + 8):
        run(TODAY + timedelta(days=1))


def test_the_command_rejects_a_bad_date(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="2027-13-01"):
        call_command("return_to_pool", "--date", "2027-13-01")


# --- pages -----------------------------------------------------------------------------------


def test_the_pool_page_lists_only_unowned_customers_of_ones_department(
    client_for, manager, manager2, other_manager, pooled
):
    CustomerFactory(department=manager.department, primary_manager=manager2, name="有主客户")
    CustomerFactory(department=other_manager.department, name="华北无主客户")
    response = client_for(manager).get(reverse("accounts:pool"))
    assert [c.name for c in response.context["customers"]] == ["无主客户"]
    assert response.context["claimable"] == {pooled.pk}


def test_a_claim_that_lost_the_race_returns_to_the_pool_with_a_message(
    client_for, manager, manager2, pooled
):
    """The loser no longer sees the customer (now someone else's): no 404, and no owner named."""
    services.pool_claim(customer=pooled, user=manager)
    response = client_for(manager2).post(
        reverse("accounts:pool_claim", args=[pooled.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("accounts:pool"), 302)]
    assert page_messages(response) == [zh("Another manager has just claimed this customer.")]
    pooled.refresh_from_db()
    assert pooled.primary_manager == manager


def test_claiming_a_customer_out_of_sight_is_still_not_found(
    client_for, manager, manager2, other_manager
):
    """Another department's customers, and a colleague's that did not just leave the pool."""
    in_their_pool = CustomerFactory(department=other_manager.department, primary_manager=None)
    theirs = CustomerFactory(department=other_manager.department, primary_manager=other_manager)
    colleagues = CustomerFactory(department=manager.department, primary_manager=manager2)
    for customer in (in_their_pool, theirs, colleagues):
        response = client_for(manager).post(reverse("accounts:pool_claim", args=[customer.pk]))
        assert response.status_code == 404
    assert not AssignmentChange.objects.exists()


def test_releasing_a_customer_already_in_the_pool_says_so(client_for, head, pooled):
    response = client_for(head).post(
        reverse("accounts:pool_release", args=[pooled.pk]), {"reason": "x"}, follow=True
    )
    assert response.redirect_chain == [(reverse("accounts:pool"), 302)]
    assert page_messages(response) == [zh("This customer is already in the pool.")]
    assert not AssignmentChange.objects.filter(customer=pooled).exists()


def test_claiming_through_the_page(client_for, manager, pooled):
    response = client_for(manager).post(reverse("accounts:pool_claim", args=[pooled.pk]))
    assert response.status_code == 302
    pooled.refresh_from_db()
    assert pooled.primary_manager == manager


def test_a_claimed_customer_keeps_its_history_for_the_new_manager(
    client_for, manager, manager2, head
):
    customer = CustomerFactory(department=manager.department, primary_manager=manager2)
    services.pool_release(customer=customer, released_by=manager2, reason="交还公海")
    services.pool_claim(customer=Customer.objects.get(pk=customer.pk), user=manager)
    response = client_for(manager).get(
        reverse("accounts:customer_detail", args=[customer.pk]) + "?tab=managers"
    )
    reasons = [change.reason for change in response.context["assignment_changes"]]
    assert "交还公海" in reasons


def test_the_home_page_shows_mine_that_will_return_soon(client_for, rules, manager):
    customer = CustomerFactory(
        department=manager.department, status="active", tier="D", name="快要回公海"
    )
    owned_since(customer, manager, timezone.now() - timedelta(days=85))
    services.pool_return_run()
    response = client_for(manager).get("/")
    assert "快要回公海" in response.content.decode()


def test_mail_is_sent_after_the_return(
    rules, manager, mailoutbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(department=manager.department, status="active", tier="D")
    owned_since(customer, manager, NOW - timedelta(days=95))
    with django_capture_on_commit_callbacks(execute=True):
        run(TODAY)
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert connection.vendor in {"sqlite", "postgresql"}
