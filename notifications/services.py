"""Tell a user something: in the app, and by e-mail after the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)


def _send_email(address: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception:  # A mail server fault must never undo the business change.
        logger.exception("Could not send notification e-mail to %s", address)


def subject_key(subject) -> str:
    """The key of the work a notice is about: "app_label.model:pk" of a row, or a key as is."""
    if subject is None or isinstance(subject, str):
        return subject or ""
    return f"{subject._meta.label_lower}:{subject.pk}"


def notify(
    *,
    recipient,
    message: str,
    link: str = "",
    email: bool = True,
    dedup_key: str | None = None,
    subject=None,
) -> Notification | None:
    """Notify one user; return None when dedup_key shows it was already sent.

    subject: the row (or its subject_key) of the work this notice asks the recipient to do;
    notifications_resolve(subject=…) takes it out of the unread count once that work is done.
    """
    if recipient is None or not recipient.is_active:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                message=message[:500],
                link=link,
                dedup_key=dedup_key,
                subject=subject_key(subject),
            )
    except IntegrityError:
        if dedup_key is None:
            raise
        return None
    if email and recipient.email:
        body = message + (f"\n\n{link}" if link else "")
        transaction.on_commit(lambda: _send_email(recipient.email, message[:120], body))
    return notification


def notify_many(recipients: Iterable, **kwargs) -> list[Notification]:
    """Notify each distinct recipient once."""
    seen, sent = set(), []
    for recipient in recipients:
        if recipient is None or recipient.pk in seen:
            continue
        seen.add(recipient.pk)
        notification = notify(recipient=recipient, **kwargs)
        if notification:
            sent.append(notification)
    return sent


def notifications_resolve(*, subject) -> int:
    """The work is done, by whoever did it: every notice asking for it leaves the unread count
    (shown done). Called by the service that completes the work, in its transaction."""
    key = subject_key(subject)
    if not key:
        return 0
    return Notification.objects.filter(subject=key, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications, or all of them, as read; return how many."""
    unread = Notification.objects.for_user(user).unread()
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


# A claim older than this is taken to belong to a job that died before it finished.
PENDING_CLAIM_SECONDS = 300


def pending_tasks_resend(*, limit: int = 500) -> int:
    """Re-send jobs recorded while the broker was down; return how many reached the broker.

    The oldest `limit` rows are claimed in one short transaction, so two runs at once never
    send one job twice; a row is deleted only after its message reached the broker. Stops at
    the first broker fault and gives the unsent rows back for the next run. A fixed number of
    queries, whatever the number of rows.
    """
    from datetime import timedelta

    from config.celery import BROKER_ERRORS, SEND_RETRY_POLICY, app

    from .models import PendingTask

    now = timezone.now()
    stale = now - timedelta(seconds=PENDING_CLAIM_SECONDS)
    with transaction.atomic():
        claimed = list(
            PendingTask.objects.filter(
                models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=stale)
            )
            .select_for_update(skip_locked=True)
            .order_by("created_at", "id")[:limit]
        )
        PendingTask.objects.filter(pk__in=[pending.pk for pending in claimed]).update(
            claimed_at=now
        )
    sent, failed, error = [], None, None
    for pending in claimed:
        try:
            app.send_task(
                pending.task_name,
                args=pending.args,
                kwargs=pending.kwargs,
                retry_policy=SEND_RETRY_POLICY,
            )
        except BROKER_ERRORS as broker_error:
            failed, error = pending.pk, broker_error
            logger.warning("Broker still unreachable; pending jobs kept for the next run")
            break
        sent.append(pending.pk)
    PendingTask.objects.filter(pk__in=sent).delete()
    if failed is not None:
        PendingTask.objects.filter(pk=failed).update(
            claimed_at=None, attempts=models.F("attempts") + 1, last_error=str(error)[:500]
        )
    tried = {*sent, failed}
    untried = [pending.pk for pending in claimed if pending.pk not in tried]
    if untried:
        PendingTask.objects.filter(pk__in=untried).update(claimed_at=None)
    return len(sent)


def notify_bulk(items: Iterable[dict], *, email: bool = True) -> list[Notification]:
    """Create many notifications in a few queries; skip those whose dedup_key exists already.

    Each item has recipient, message, link and dedup_key, and may have a subject. Jobs call
    this inside a serialised transaction (config.jobs.serialize_job), so that the existing keys
    read here are final.
    """
    items = [
        item for item in items if item["recipient"] is not None and item["recipient"].is_active
    ]
    from config.jobs import chunks

    existing = set()
    for keys in chunks(sorted({item["dedup_key"] for item in items} - {None})):
        existing |= set(
            Notification.objects.filter(dedup_key__in=keys).values_list("recipient_id", "dedup_key")
        )
    fresh = [
        Notification(
            recipient=item["recipient"],
            message=item["message"][:500],
            link=item.get("link", ""),
            dedup_key=item["dedup_key"],
            subject=subject_key(item.get("subject")),
        )
        for item in items
        if (item["recipient"].pk, item["dedup_key"]) not in existing
    ]
    Notification.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    if email:
        mails = [
            (n.recipient.email, n.message, n.message + (f"\n\n{n.link}" if n.link else ""))
            for n in fresh
            if n.recipient.email
        ]
        if mails:
            transaction.on_commit(lambda: [_send_email(*mail) for mail in mails])
    return fresh
