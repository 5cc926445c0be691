"""Scoring models, assessments, grading runs, overrides, publication and appeals."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import BusinessRuleError
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


def grading_run_publish(*, run: GradingRun, published_by: User) -> GradingRun:
    """Publish a reviewed run: customers' tiers and scores change, history grows, managers
    are notified, and an appeal window opens."""
    require(perms.can_publish(published_by))
    now = timezone.now()
    with transaction.atomic():
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


def appeal_file(*, grade: Grade, filed_by: User, reason: str, requested_tier: str) -> Appeal:
    """A manager appeals a published grade of their customer, once, within the window."""
    customer = grade.customer
    require(perms.can_appeal(filed_by, customer))
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(_("Give a reason for the appeal."))
    if requested_tier not in Tier.values or requested_tier == grade.tier:
        raise BusinessRuleError(_("Ask for a tier other than the one given."))
    run = grade.run
    if run.status != RunStatus.PUBLISHED or run.appeal_deadline is None:
        raise BusinessRuleError(_("Only a grade of a published run can be appealed."))
    if timezone.now() > run.appeal_deadline:
        raise BusinessRuleError(
            _("The appeal window closed on %(date)s.")
            % {"date": timezone.localtime(run.appeal_deadline).strftime("%Y-%m-%d %H:%M")}
        )
    try:
        with transaction.atomic():
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


def appeal_decide(*, appeal: Appeal, decided_by: User, uphold: bool, comment: str) -> Appeal:
    """Uphold (the tier changes, recorded) or reject (with a comment) an appeal, once."""
    customer = appeal.customer
    require(perms.can_decide_appeal(decided_by, customer))
    comment = (comment or "").strip()
    if not uphold and not comment:
        raise BusinessRuleError(_("Say why the appeal is rejected."))
    now = timezone.now()
    with transaction.atomic():
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
            customer.refresh_from_db()
            old_tier = customer.tier
            TierChange.objects.create(
                customer=customer,
                old_tier=old_tier,
                new_tier=appeal.requested_tier,
                score=customer.score,
                kind=TierChangeKind.APPEAL,
                grade=appeal.grade,
                changed_by=decided_by,
                changed_at=now,
                reason=comment or appeal.reason,
            )
            Grade.objects.filter(pk=appeal.grade_id).update(tier=appeal.requested_tier)
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
