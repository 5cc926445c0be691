"""Tie the notices already sent to their work where the stored row tells which work it was.

Three kinds can be told apart: a run's review request (dedup key "tiers-review:<run>"), an
automatic complaint escalation (dedup key "complaint-escalated:<complaint>") and an appeal
awaiting a decision (a link to the appeal, sent to someone other than its filer). Those whose
work is finished are marked done. The other requests (admissions, approval steps, signing,
collections, escalations by hand) share their link with notices that only inform, and their
text is translated: they stay as they are.
"""

import re

from django.db import migrations
from django.utils import timezone


def _tie(Notification, pk_by_notice, label, finished):
    for notice_pk, work_pk in pk_by_notice:
        done = finished.get(work_pk)
        Notification.objects.filter(pk=notice_pk, subject="").update(
            subject=f"{label}:{work_pk}", resolved_at=done
        )


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    GradingRun = apps.get_model("tiers", "GradingRun")
    Appeal = apps.get_model("tiers", "Appeal")
    Complaint = apps.get_model("complaints", "Complaint")
    now = timezone.now()

    reviews = [
        (pk, int(key.split(":")[1]))
        for pk, key in Notification.objects.filter(
            dedup_key__regex=r"^tiers-review:[0-9]+$"
        ).values_list("pk", "dedup_key")
    ]
    finished = {
        run.pk: run.published_at or now
        for run in GradingRun.objects.filter(pk__in={w for _, w in reviews}).exclude(
            status="under_review"
        )
    }
    _tie(Notification, reviews, "tiers.gradingrun", finished)

    escalations = [
        (pk, int(key.split(":")[1]))
        for pk, key in Notification.objects.filter(
            dedup_key__regex=r"^complaint-escalated:[0-9]+$"
        ).values_list("pk", "dedup_key")
    ]
    finished = {
        pk: now
        for pk in Complaint.objects.filter(pk__in={w for _, w in escalations})
        .exclude(status="escalated")
        .values_list("pk", flat=True)
    }
    _tie(Notification, escalations, "complaints.complaint", finished)

    link = re.compile(r"/tiers/appeals/([0-9]+)/$")
    candidates = [
        (pk, recipient, int(match[1]))
        for pk, recipient, url in Notification.objects.filter(
            link__regex=r"/tiers/appeals/[0-9]+/$"
        ).values_list("pk", "recipient_id", "link")
        if (match := link.search(url))
    ]
    appeals = {
        appeal.pk: appeal for appeal in Appeal.objects.filter(pk__in={a for *_, a in candidates})
    }
    requests = [
        (pk, appeal_pk)
        for pk, recipient, appeal_pk in candidates
        if appeal_pk in appeals and appeals[appeal_pk].filed_by_id != recipient
    ]
    finished = {
        pk: appeal.decided_at or now
        for pk, appeal in appeals.items()
        if appeal.status != "pending"
    }
    _tie(Notification, requests, "tiers.appeal", finished)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_notification_subject_resolved"),
        ("tiers", "0005_grade_covering_indexes"),
        ("complaints", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
