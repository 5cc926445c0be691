"""Scoring models, assessments, grading runs, overrides, publication and appeals."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import BusinessRuleError
from accounts.locks import lock_in_order
from accounts.models import Customer, Tier, User
from accounts.permissions import require
from notifications.services import notifications_resolve, notify, notify_many

from . import computation, scoring
from . import permissions as perms
from .models import (
    Appeal,
    AppealStatus,
    Assessment,
    Grade,
    GradingRun,
    IndicatorSource,
    Movement,
    RunStatus,
    ScoringModel,
    TierChange,
    TierChangeKind,
    movement_between,
)

logger = logging.getLogger(__name__)


def appeal_window_days() -> int:
    return int(getattr(settings, "TIERS_APPEAL_WINDOW_DAYS", 14))


# --- Scoring models ------------------------------------------------------------------------


def scoring_model_problems(model: ScoringModel) -> list[str]:
    """Return, translated, why this model cannot be activated ([] when it can)."""
    indicators = list(model.indicators.all())
    problems = []
    total = sum((i.weight for i in indicators), Decimal("0"))
    if total != Decimal("100"):
        problems.append(
            _("The weights add up to %(total)s, not 100.") % {"total": f"{total.normalize():f}"}
        )
    if not Decimal("100") >= model.threshold_a > model.threshold_b > model.threshold_c > 0:
        problems.append(
            _(
                "The thresholds must descend: A (%(a)s) above B (%(b)s) above C (%(c)s), "
                "all between 0 and 100."
            )
            % {"a": model.threshold_a, "b": model.threshold_b, "c": model.threshold_c}
        )
    unknown = sorted(
        i.code
        for i in indicators
        if i.source == IndicatorSource.COMPUTED and i.code not in scoring.COMPUTED_CODES
    )
    if unknown:
        problems.append(
            _("These computed indicators cannot be computed: %(codes)s.")
            % {"codes": ", ".join(unknown)}
        )
    if not indicators:
        problems.append(_("The model has no indicators."))
    return problems


def scoring_model_activate(*, model: ScoringModel, activated_by: User) -> ScoringModel:
    """Make this model the active one, if its weights add up to 100 and thresholds descend."""
    require(perms.can_manage_models(activated_by))
    problems = scoring_model_problems(model)
    if problems:
        raise BusinessRuleError(
            _("%(model)s cannot be activated: %(problems)s")
            % {"model": model, "problems": " ".join(problems)}
        )
    with transaction.atomic():
        ScoringModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        ScoringModel.objects.filter(pk=model.pk).update(is_active=True, activated_at=timezone.now())
    model.refresh_from_db()
    return model


def active_scoring_model() -> ScoringModel:
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        raise BusinessRuleError(_("No scoring model is active."))
    return model


# --- Assessments -----------------------------------------------------------------------------


def assessments_record(
    *, customer: Customer, assessed_by: User, values: dict[str, tuple[Decimal, str]], at=None
) -> list[Assessment]:
    """Record the manager's assessment of the given indicators ({code: (value, note)})."""
    require(perms.can_assess(assessed_by, customer))
    assessed_codes = set(
        active_scoring_model()
        .indicators.filter(source=IndicatorSource.ASSESSED)
        .values_list("code", flat=True)
    )
    at = at or timezone.now()
    local = timezone.localtime(at)
    period = str(scoring.Period(local.year, (local.month - 1) // 3 + 1))
    rows = []
    for code, (value, note) in values.items():
        if code not in assessed_codes:
            raise BusinessRuleError(_("%(code)s is not an assessed indicator.") % {"code": code})
        if value is None:
            continue
        value = Decimal(value)
        if not Decimal("0") <= value <= Decimal("100"):
            raise BusinessRuleError(_("An assessment must be between 0 and 100."))
        rows.append(
            Assessment(
                customer=customer,
                indicator_code=code,
                value=value,
                note=(note or "")[:255],
                period=period,
                assessed_at=at,
                assessed_by=assessed_by,
            )
        )
    return Assessment.objects.bulk_create(rows)


# --- Grading runs -------------------------------------------------------------------------------


def grading_run_compute(
    *, period: str | scoring.Period, computed_by: User | None = None
) -> GradingRun:
    """Compute (or recompute) the grading run of a period, idempotently.

    One run per period (unique period). A published or closed run is never recomputed. Two
    computations at once: the second waits for the first's row lock and then finds the
    computation number changed, so it leaves the first's grades in place.
    """
    if computed_by is not None:
        require(perms.can_compute(computed_by))
    if isinstance(period, str):
        period = scoring.parse_period(period)
    if period.end >= timezone.localdate():
        raise BusinessRuleError(
            _("%(period)s has not ended yet: a quarter is graded after its last day.")
            % {"period": period}
        )
    model = active_scoring_model()
    spec = model.spec()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = GradingRun.objects.create(
                    period=str(period),
                    scoring_model=model,
                    window_start=period.window_start,
                    window_end=period.end,
                    computed_by=computed_by,
                )
        except IntegrityError:
            run = GradingRun.objects.get(period=str(period))
        if not run.is_editable:
            return run
        seen = run.computation
        claimed = GradingRun.objects.filter(
            pk=run.pk,
            computation=seen,
            status__in=[RunStatus.COMPUTED, RunStatus.UNDER_REVIEW],
        ).update(
            computation=seen + 1,
            computed_at=timezone.now(),
            computed_by=computed_by,
            scoring_model=model,
        )
        if claimed != 1:
            # Someone else computed (or published) it meanwhile: their result stands.
            return GradingRun.objects.get(pk=run.pk)
        overrides = {
            row["customer_id"]: row
            for row in run.grades.filter(overridden_at__isnull=False).values(
                "customer_id", "tier", "override_reason", "overridden_by_id", "overridden_at"
            )
        }
        # Plain DELETE: no per-row signals (history) for grades that were never published.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Grade._meta.db_table} WHERE run_id = %s", [run.pk])
        run.refresh_from_db()
        count = computation.compute_grades(run, spec, overrides)
        GradingRun.objects.filter(pk=run.pk).update(grade_count=count)
        run.refresh_from_db()
    logger.info("Grading run %s computed: %d grades", run.period, count)
    return run


def grading_run_start_review(*, run: GradingRun, started_by: User) -> GradingRun:
    """Hand a computed run to the department heads for review."""
    require(perms.can_start_review(started_by))
    with transaction.atomic():
        updated = GradingRun.objects.filter(pk=run.pk, status=RunStatus.COMPUTED).update(
            status=RunStatus.UNDER_REVIEW,
            review_started_at=timezone.now(),
            review_started_by=started_by,
        )
        if updated != 1:
            raise BusinessRuleError(_("Only a computed run can be sent for review."))
        run.refresh_from_db()
        heads = User.objects.filter(
            headed_departments__customers__grades__run=run, is_active=True
        ).distinct()
        notify_many(
            heads,
            message=_("Grading %(period)s is ready for your review.") % {"period": run.period},
            link=run.get_absolute_url(),
            dedup_key=f"tiers-review:{run.pk}",
            subject=run,
        )
    return run


def grade_override(*, grade: Grade, tier: str, reason: str, overridden_by: User) -> Grade:
    """Change a grade's tier during review, with a written reason (heads of its department)."""
    require(perms.can_override(overridden_by, grade.customer))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for the override."))
    if tier not in Tier.values:
        raise BusinessRuleError(_("Choose a tier."))
    with transaction.atomic():
        updated = Grade.objects.filter(
            pk=grade.pk, run__status__in=[RunStatus.COMPUTED, RunStatus.UNDER_REVIEW]
        ).update(
            tier=tier,
            movement=movement_between(grade.previous_tier, tier),
            override_reason=reason,
            overridden_by=overridden_by,
            overridden_at=timezone.now(),
        )
        if updated != 1:
            raise BusinessRuleError(_("This run is no longer under review."))
        grade.refresh_from_db()
        # The conditional update bypasses save(); record the override in the grade's history.
        grade._change_reason = reason
        grade.save(update_fields=["tier"])
    return grade


PUBLISHED_STATUSES = (RunStatus.PUBLISHED, RunStatus.CLOSED)


def latest_published_run(*, exclude: GradingRun | None = None) -> GradingRun | None:
    """The run of the latest period that was published (still open for appeals or closed)."""
    runs = GradingRun.objects.filter(status__in=PUBLISHED_STATUSES)
    if exclude is not None:
        runs = runs.exclude(pk=exclude.pk)
    return runs.order_by("-period").first()


def grading_run_publication_problem(run: GradingRun) -> str | None:
    """Why this run may not be published, translated (None when it may).

    Only the period right after the latest published one may be published (any period when
    none has been published yet): publishing an older period, or skipping one, would
    overwrite the current tiers with a past (or incomplete) picture. An older period can
    still be computed and reviewed; a published period is corrected by overrides and appeals.
    """
    latest = latest_published_run(exclude=run)
    if latest is None:
        return None
    expected = str(scoring.parse_period(latest.period).next())
    if run.period == expected:
        return None
    return _(
        "Grading %(period)s cannot be published: the latest published grading is "
        "%(latest)s, so only %(expected)s can be published next. A published period is "
        "corrected through overrides and appeals, not by publishing another run."
    ) % {"period": run.period, "latest": latest.period, "expected": expected}


def grade_previous_tiers_refresh(*, run: GradingRun) -> int:
    """Set the previous tier (and movement) of a run's grades from the preceding published
    period's grades, set-based; return how many grades were updated.

    Called when the preceding period's tiers may have changed after the run was computed:
    the preceding run was published meanwhile, or an appeal of it was upheld.
    """
    preceding = computation.preceding_published_run(run.period)
    if preceding is None:
        previous = Value("")
    else:
        previous = Coalesce(
            Subquery(
                Grade.objects.filter(run=preceding, customer=OuterRef("customer_id")).values(
                    "tier"
                )[:1]
            ),
            Value(""),
        )
    grades = Grade.objects.filter(run=run)
    count = grades.update(previous_tier=previous)
    grades.update(
        movement=Case(
            When(previous_tier="", then=Value(Movement.NEW)),
            When(previous_tier=F("tier"), then=Value(Movement.SAME)),
            # "A" < "B": A is the higher tier.
            When(tier__lt=F("previous_tier"), then=Value(Movement.UP)),
            default=Value(Movement.DOWN),
        )
    )
    return count


def _refresh_later_runs(period: str) -> None:
    """The runs whose preceding published period is this one take their previous tiers from
    it anew (the next published run, or the runs still in review after it)."""
    for later in GradingRun.objects.filter(period__gt=period).order_by("period"):
        preceding = computation.preceding_published_run(later.period)
        if preceding is not None and preceding.period == period:
            grade_previous_tiers_refresh(run=later)


def grading_run_publish(*, run: GradingRun, published_by: User) -> GradingRun:
    """Publish a reviewed run: customers' tiers and scores change, history grows, managers
    are notified, and an appeal window opens. Only the period right after the latest
    published one may be published (grading_run_publication_problem)."""
    require(perms.can_publish(published_by))
    now = timezone.now()
    with transaction.atomic():
        # Serialise publications: the order check and the status change see one latest run.
        list(
            GradingRun.objects.select_for_update()
            .filter(Q(pk=run.pk) | Q(status=RunStatus.PUBLISHED))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        problem = grading_run_publication_problem(run)
        if problem:
            raise BusinessRuleError(problem)
        updated = GradingRun.objects.filter(pk=run.pk, status=RunStatus.UNDER_REVIEW).update(
            status=RunStatus.PUBLISHED,
            published_at=now,
            published_by=published_by,
            appeal_deadline=now + timedelta(days=appeal_window_days()),
        )
        if updated != 1:
            raise BusinessRuleError(_("Only a run under review can be published."))
        notifications_resolve(subject=run)  # the heads' review is over
        run.refresh_from_db()
        # The previous tiers are current: they were refreshed when the preceding period was
        # published and whenever an appeal of it was upheld (_refresh_later_runs).
        grades = Grade.objects.filter(run=run)
        # Tier history first, against the customers' tiers before they change.
        _insert_tier_changes(run, published_by, now)
        this_grade = Grade.objects.filter(run=run, customer=OuterRef("pk"))
        Customer.objects.filter(pk__in=grades.values("customer_id")).update(
            tier=Subquery(this_grade.values("tier")[:1]),
            score=Subquery(this_grade.values("score")[:1]),
        )
        # An earlier published run's appeal window ends with the next publication.
        GradingRun.objects.filter(status=RunStatus.PUBLISHED).exclude(pk=run.pk).filter(
            period__lt=run.period
        ).update(status=RunStatus.CLOSED, closed_at=now)
        # Subqueries, not lists of ids: 100,000 ids would pass SQLite's variable limit.
        changed = TierChange.objects.filter(grade__run=run, kind=TierChangeKind.PUBLISHED)
        changed_customers = changed.values("customer_id")
        # Semi-joins on the changed customers: joining users to both their primary and their
        # assisted customers multiplies the rows (managers × customers²) before DISTINCT.
        changed_rows = Customer.objects.filter(pk__in=changed_customers)
        managers = User.objects.filter(
            Q(pk__in=changed_rows.values("primary_manager"))
            | Q(pk__in=changed_rows.values("assistant_manager"))
        )
        link = reverse("tiers:run_detail", args=[run.pk]) + "?movement=changed&mine=true"
        for manager in managers:
            notify(
                recipient=manager,
                message=_("Grading %(period)s is published: some of your customers changed tier.")
                % {"period": run.period},
                link=link,
                dedup_key=f"tiers-published:{run.pk}",
            )
        changed_ids = list(changed.values_list("customer_id", flat=True))
        _refresh_later_runs(run.period)
        transaction.on_commit(lambda: _after_tiers_changed(changed_ids))
    return run


def _insert_tier_changes(run: GradingRun, user: User, now) -> None:
    """Append a TierChange for every customer whose tier this run changes (INSERT … SELECT)."""
    grade = Grade._meta.db_table
    customer = Customer._meta.db_table
    change = TierChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {change} (customer_id, old_tier, new_tier, score, kind, grade_id, "
            f"changed_by_id, changed_at, reason) "
            f"SELECT g.customer_id, c.tier, g.tier, g.score, %s, g.id, %s, %s, %s "
            f"FROM {grade} g JOIN {customer} c ON c.id = g.customer_id "
            f"WHERE g.run_id = %s AND c.tier <> g.tier",
            [
                TierChangeKind.PUBLISHED,
                user.pk,
                TierChange._meta.get_field("changed_at").get_db_prep_value(now, connection),
                run.period,
                run.pk,
            ],
        )


def grading_run_close(*, run: GradingRun, closed_by: User) -> GradingRun:
    require(perms.can_publish(closed_by))
    updated = GradingRun.objects.filter(pk=run.pk, status=RunStatus.PUBLISHED).update(
        status=RunStatus.CLOSED, closed_at=timezone.now()
    )
    if updated != 1:
        raise BusinessRuleError(_("Only a published run can be closed."))
    run.refresh_from_db()
    return run


def _after_tiers_changed(customer_ids: list[int]) -> None:
    """Hook run after customers' tiers changed (publication, upheld appeal).

    The visits app regenerates their visit plans from the new tier intervals, in a task, and
    the dashboard summaries are rebuilt.
    """
    from config.celery import enqueue_on_commit
    from dashboard.tasks import summaries_refresh_task
    from visits.services import visit_plans_refresh_after_commit

    logger.info("Tiers changed for %d customers", len(customer_ids))
    visit_plans_refresh_after_commit(customer_ids=customer_ids)
    # Sales by tier and tier drops are read from the summaries: rebuild them.
    enqueue_on_commit(summaries_refresh_task)


# --- Appeals -------------------------------------------------------------------------------------


def appeal_file(
    *,
    grade: Grade,
    filed_by: User,
    reason: str,
    requested_tier: str,
    customer: Customer | None = None,
) -> Appeal:
    """A manager appeals one published grade of their customer, once, within the window.

    The grade is the one named (by the page's link or form), never the customer's newest:
    it must belong to the customer (when one is given), and its run must be published and
    its appeal window still open.
    """
    if customer is not None and grade.customer_id != customer.pk:
        raise BusinessRuleError(_("This grade is not a grade of this customer."))
    customer = grade.customer
    require(perms.can_appeal(filed_by, customer))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for the appeal."))
    if requested_tier not in Tier.values or requested_tier == grade.tier:
        raise BusinessRuleError(_("Ask for a tier other than the one given."))
    try:
        with transaction.atomic():
            # Read the run under its lock: a publication that closes it waits, or wins first.
            run = GradingRun.objects.select_for_update().get(pk=grade.run_id)
            _check_appealable(run)
            appeal = Appeal.objects.create(
                grade=grade,
                customer=customer,
                requested_tier=requested_tier,
                reason=reason,
                filed_by=filed_by,
            )
            heads = [customer.department.head] if customer.department.head_id else []
            notify_many(
                heads,
                message=_("%(user)s appealed the %(period)s grade of %(customer)s.")
                % {"user": filed_by, "period": run.period, "customer": customer},
                link=appeal.get_absolute_url(),
                subject=appeal,
            )
    except IntegrityError as error:
        raise BusinessRuleError(_("This grade has already been appealed.")) from error
    return appeal


def appeal_problem(grade: Grade) -> str | None:
    """Why this grade cannot be appealed now, translated (None when it can)."""
    try:
        _check_appealable(grade.run)
    except BusinessRuleError as error:
        return error.message
    return None


def _check_appealable(run: GradingRun) -> None:
    if run.status == RunStatus.CLOSED:
        raise BusinessRuleError(
            _("Grading %(period)s is closed: its grades can no longer be appealed.")
            % {"period": run.period}
        )
    if run.status != RunStatus.PUBLISHED or run.appeal_deadline is None:
        raise BusinessRuleError(_("Only a grade of a published run can be appealed."))
    if timezone.now() > run.appeal_deadline:
        raise BusinessRuleError(
            _("The appeal window closed on %(date)s.")
            % {"date": timezone.localtime(run.appeal_deadline).strftime("%Y-%m-%d %H:%M")}
        )


def appeal_decide(*, appeal: Appeal, decided_by: User, uphold: bool, comment: str) -> Appeal:
    """Uphold (the tier changes, recorded) or reject (with a comment) an appeal, once."""
    customer = appeal.customer
    require(perms.can_decide_appeal(decided_by, customer))
    comment = (comment or "").strip()
    if not uphold and not comment:
        raise BusinessRuleError(_("Say why the appeal is rejected."))
    now = timezone.now()
    with transaction.atomic():
        lock_in_order(customers=[customer], subject=appeal)
        updated = Appeal.objects.filter(pk=appeal.pk, status=AppealStatus.PENDING).update(
            status=AppealStatus.UPHELD if uphold else AppealStatus.REJECTED,
            decided_by=decided_by,
            decided_at=now,
            comment=comment,
            new_tier=appeal.requested_tier if uphold else "",
        )
        if updated != 1:
            raise BusinessRuleError(_("This appeal has already been decided."))
        notifications_resolve(subject=appeal)
        appeal.refresh_from_db()
        appeal._change_reason = comment
        appeal.save(update_fields=["status"])  # a history row for the decision
        if uphold:
            period = appeal.grade.run.period
            Grade.objects.filter(pk=appeal.grade_id).update(tier=appeal.requested_tier)
            # The next period's previous tiers are this grade's period's tiers.
            _refresh_later_runs(period)
            # A later period published since (the appeal was filed before it) holds the
            # current tier: the upheld appeal corrects its own period's grade only.
            superseded = GradingRun.objects.filter(
                status__in=PUBLISHED_STATUSES, period__gt=period
            ).exists()
            if not superseded:
                customer.refresh_from_db()
                TierChange.objects.create(
                    customer=customer,
                    old_tier=customer.tier,
                    new_tier=appeal.requested_tier,
                    score=customer.score,
                    kind=TierChangeKind.APPEAL,
                    grade=appeal.grade,
                    changed_by=decided_by,
                    changed_at=now,
                    reason=comment or appeal.reason,
                )
                customer.tier = appeal.requested_tier
                customer._change_reason = _("Appeal upheld")
                customer.save(update_fields=["tier", "updated_at"])
                transaction.on_commit(lambda: _after_tiers_changed([customer.pk]))
            message = _("Your appeal for %(customer)s was upheld: tier %(tier)s.") % {
                "customer": customer,
                "tier": appeal.requested_tier,
            }
        else:
            message = _("Your appeal for %(customer)s was rejected: %(comment)s") % {
                "customer": customer,
                "comment": comment,
            }
        notify(recipient=appeal.filed_by, message=message, link=appeal.get_absolute_url())
    return appeal
