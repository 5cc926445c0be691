"""Grading runs: idempotent computation, review, override, publication, appeals."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.errors import BusinessRuleError
from accounts.models import Customer
from notifications.models import Notification
from tests.factories import TransactionFactory
from tiers import services
from tiers.models import (
    Appeal,
    AppealStatus,
    Grade,
    GradingRun,
    Indicator,
    RunStatus,
    ScoringModel,
    TierChange,
)

from .factories import SHANGHAI, big_profit_customer, worked_example_customer

OCT_2 = datetime.datetime(2026, 10, 2, 9, tzinfo=SHANGHAI)


@pytest.fixture
def graded(db, east, manager):
    example = worked_example_customer(department=east, primary_manager=manager)
    big = big_profit_customer(department=east, primary_manager=manager, tier="B")
    return example, big


def test_running_the_job_twice_leaves_one_run_and_one_grade_per_customer(graded):
    first = services.grading_run_compute(period="2026Q3")
    second = services.grading_run_compute(period="2026Q3")
    assert first.pk == second.pk
    assert GradingRun.objects.count() == 1
    assert Grade.objects.count() == 2 == second.grade_count
    example = Grade.objects.get(customer=graded[0])
    assert (example.score, example.tier, example.incomplete) == (Decimal("65.9"), "C", False)
    assert example.breakdown["annual_purchase"] == ["2500000.00", 50.0, 15.0]
    assert example.movement == "new"
    big = Grade.objects.get(customer=graded[1])
    # Tier B today, but no earlier grading was published: there is no previous tier.
    assert (big.previous_tier, big.movement) == ("", "new")


def test_the_task_computes_the_quarter_just_ended(graded):
    from tiers.tasks import grading_run_compute_task

    with time_machine.travel(OCT_2):
        grading_run_compute_task.delay()
    assert GradingRun.objects.get().period == "2026Q3"


def test_the_beat_schedule_runs_quarterly_at_two_in_the_morning(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["tiers-quarterly-regrade"]
    assert entry["task"] == "tiers.tasks.grading_run_compute_task"
    schedule = entry["schedule"]
    assert schedule.hour == {2} and schedule.minute == {0}
    assert schedule.day_of_month == {1} and schedule.month_of_year == {1, 4, 7, 10}


def test_a_published_run_is_never_recomputed(graded, executive):
    run = services.grading_run_compute(period="2026Q3")
    services.grading_run_start_review(run=run, started_by=executive)
    services.grading_run_publish(run=run, published_by=executive)
    grade_ids = set(Grade.objects.values_list("pk", flat=True))
    TransactionFactory(customer=graded[0], date=datetime.date(2026, 9, 1), amount=Decimal("9e6"))
    again = services.grading_run_compute(period="2026Q3")
    assert again.status == RunStatus.PUBLISHED
    assert again.computation == run.computation
    assert set(Grade.objects.values_list("pk", flat=True)) == grade_ids
    assert Grade.objects.get(customer=graded[0]).score == Decimal("65.9")


def test_a_recompute_under_review_keeps_the_overrides(graded, head, executive):
    run = services.grading_run_compute(period="2026Q3")
    services.grading_run_start_review(run=run, started_by=executive)
    grade = Grade.objects.get(customer=graded[0])
    services.grade_override(grade=grade, tier="B", reason="Strategic", overridden_by=head)
    services.grading_run_compute(period="2026Q3")
    grade = Grade.objects.get(customer=graded[0])
    assert (grade.tier, grade.computed_tier, grade.override_reason) == ("B", "C", "Strategic")


def test_override_needs_a_reason_and_the_head_of_that_department(
    graded, head, other_head, manager, executive
):
    run = services.grading_run_compute(period="2026Q3")
    grade = Grade.objects.get(customer=graded[0])
    with pytest.raises(BusinessRuleError, match="reason"):
        services.grade_override(grade=grade, tier="B", reason=" ", overridden_by=head)
    for user in (other_head, manager, executive):
        with pytest.raises(PermissionDenied):
            services.grade_override(grade=grade, tier="B", reason="x", overridden_by=user)
    services.grade_override(grade=grade, tier="B", reason="Key project", overridden_by=head)
    grade.refresh_from_db()
    assert grade.movement == "new" and grade.overridden_by == head
    assert grade.history.first().history_change_reason == "Key project"
    assert run.pk == grade.run_id


def test_publication_sets_tiers_history_and_notifies_managers(graded, executive, manager, head):
    run = services.grading_run_compute(period="2026Q3")
    with pytest.raises(BusinessRuleError):
        services.grading_run_publish(run=run, published_by=executive)  # not reviewed yet
    with pytest.raises(PermissionDenied):
        services.grading_run_start_review(run=run, started_by=head)
    services.grading_run_start_review(run=run, started_by=executive)
    with pytest.raises(PermissionDenied):
        services.grading_run_publish(run=run, published_by=head)
    with time_machine.travel(OCT_2):
        run = services.grading_run_publish(run=run, published_by=executive)
    example = Customer.objects.get(pk=graded[0].pk)
    assert (example.tier, example.score) == ("C", Decimal("65.9"))
    changes = list(TierChange.objects.filter(customer=example))
    assert [(c.old_tier, c.new_tier, c.kind) for c in changes] == [("", "C", "published")]
    assert run.appeal_deadline == OCT_2 + datetime.timedelta(days=14)
    assert Notification.objects.filter(recipient=manager, message__contains="2026Q3").count() == 1
    with pytest.raises(BusinessRuleError):
        services.grading_run_publish(run=run, published_by=executive)


def _published(executive):
    run = services.grading_run_compute(period="2026Q3")
    services.grading_run_start_review(run=run, started_by=executive)
    with time_machine.travel(OCT_2):
        return services.grading_run_publish(run=run, published_by=executive)


def test_an_appeal_upheld_changes_the_tier(graded, executive, manager, head, other_manager):
    _published(executive)
    grade = Grade.objects.get(customer=graded[0])
    with pytest.raises(PermissionDenied):
        services.appeal_file(grade=grade, filed_by=other_manager, reason="x", requested_tier="B")
    with time_machine.travel(OCT_2 + datetime.timedelta(days=3)):
        appeal = services.appeal_file(
            grade=grade, filed_by=manager, reason="New contract signed", requested_tier="B"
        )
        with pytest.raises(BusinessRuleError, match="already"):
            services.appeal_file(grade=grade, filed_by=manager, reason="again", requested_tier="B")
        with pytest.raises(PermissionDenied):
            services.appeal_decide(appeal=appeal, decided_by=manager, uphold=True, comment="")
        services.appeal_decide(appeal=appeal, decided_by=head, uphold=True, comment="Agreed")
        with pytest.raises(BusinessRuleError, match="already been decided"):
            services.appeal_decide(appeal=appeal, decided_by=head, uphold=False, comment="no")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and appeal.new_tier == "B"
    assert Customer.objects.get(pk=graded[0].pk).tier == "B"
    assert TierChange.objects.filter(customer=graded[0], kind="appeal", new_tier="B").exists()
    assert Notification.objects.filter(recipient=manager, message__contains="upheld").exists()


def test_an_appeal_rejected_needs_a_comment(graded, executive, manager):
    _published(executive)
    grade = Grade.objects.get(customer=graded[0])
    with time_machine.travel(OCT_2 + datetime.timedelta(days=1)):
        appeal = services.appeal_file(grade=grade, filed_by=manager, reason="r", requested_tier="A")
        with pytest.raises(BusinessRuleError):
            services.appeal_decide(appeal=appeal, decided_by=executive, uphold=False, comment="")
        services.appeal_decide(appeal=appeal, decided_by=executive, uphold=False, comment="No")
    assert Appeal.objects.get().status == AppealStatus.REJECTED
    assert Customer.objects.get(pk=graded[0].pk).tier == "C"


def test_no_appeal_after_the_window(graded, executive, manager, settings):
    settings.TIERS_APPEAL_WINDOW_DAYS = 7
    _published(executive)
    grade = Grade.objects.get(customer=graded[0])
    with (
        time_machine.travel(OCT_2 + datetime.timedelta(days=7, minutes=1)),
        pytest.raises(BusinessRuleError, match="window closed"),
    ):
        services.appeal_file(grade=grade, filed_by=manager, reason="late", requested_tier="B")


def test_an_invalid_model_cannot_be_activated(db, admin_user, default_model):
    model = ScoringModel.objects.create(version=2, name="draft", threshold_a=60, threshold_b=70)
    Indicator.objects.create(
        scoring_model=model, code="x", name="x", dimension="value", weight=99, source="assessed"
    )
    with pytest.raises(BusinessRuleError) as error:
        services.scoring_model_activate(model=model, activated_by=admin_user)
    assert "99" in error.value.message and "descend" in error.value.message
    assert ScoringModel.objects.get(is_active=True) == default_model
    model.threshold_a = 90
    model.save()
    Indicator.objects.filter(scoring_model=model).update(weight=100)
    services.scoring_model_activate(model=model, activated_by=admin_user)
    assert ScoringModel.objects.get(is_active=True) == model


def test_a_quarter_that_has_not_ended_is_not_graded(db):
    with time_machine.travel(OCT_2), pytest.raises(BusinessRuleError, match="not ended"):
        services.grading_run_compute(period="2026Q4")
    with time_machine.travel(OCT_2), pytest.raises(CommandError, match="not ended"):
        call_command("regrade", "--period", "2026Q4")


@pytest.mark.parametrize("period", ["2026Q5", "abc"])
def test_the_command_refuses_a_bad_period(db, period):
    with pytest.raises(CommandError, match="like 2026Q3"):
        call_command("regrade", "--period", period)


def test_the_command_regrades(graded, capsys):
    call_command("regrade", "--period", "2026Q3")
    assert "2 grades" in capsys.readouterr().out
    with time_machine.travel(OCT_2):
        call_command("regrade")
    assert GradingRun.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks for real concurrency"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_computations_at_once_leave_one_run(east, manager):
    for _ in range(30):
        worked_example_customer(department=east)
    errors = []
    barrier = threading.Barrier(2)

    def compute():
        try:
            barrier.wait()
            services.grading_run_compute(period="2026Q3")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert GradingRun.objects.count() == 1
    assert Grade.objects.count() == 30
    assert Grade.objects.values("customer").distinct().count() == 30


def test_publication_moves_the_visit_plan_to_the_new_tiers_interval(
    graded, executive, django_capture_on_commit_callbacks
):
    from visits.models import PlannedVisit
    from visits.services import visit_plan_regenerate

    customer = graded[0]  # the worked example: grade C, 90 days between visits
    visit_plan_regenerate(customer_ids=[customer.pk])  # ungraded: planned like D, 180 days
    before = PlannedVisit.objects.open().get(customer=customer).due_date
    with django_capture_on_commit_callbacks(execute=True):
        run = services.grading_run_compute(period="2026Q3")
        services.grading_run_start_review(run=run, started_by=executive)
        services.grading_run_publish(run=run, published_by=executive)
    customer.refresh_from_db()
    assert customer.tier == "C"
    after = PlannedVisit.objects.open().get(customer=customer).due_date
    assert (before - after).days == 180 - 90
