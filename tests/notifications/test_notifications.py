"""Notifications: the notify helper, de-duplication, the bell, reading and opening."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_mark_read, notify, notify_many


@pytest.fixture
def user(manager):
    return manager


def bell_count(response) -> str | None:
    """Return the unread count shown on the bell, or None when it shows no badge."""
    page = response.content.decode()
    marker = 'data-testid="unread-count">'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split("<", 1)[0]


# --- notify ---------------------------------------------------------------------------------


def test_it_stores_the_notice_and_mails_after_commit(
    user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks() as callbacks:
        notice = notify(recipient=user, message="客户A 已准入", link="/customers/1/")
        assert mailoutbox == []  # nothing leaves before the transaction commits
    assert notice.recipient == user and not notice.is_read
    assert len(callbacks) == 1
    callbacks[0]()
    [mail] = mailoutbox
    assert mail.to == [user.email]
    assert mail.subject == "客户A 已准入"
    assert "/customers/1/" in mail.body


def test_a_rolled_back_transaction_sends_nothing(
    user, django_capture_on_commit_callbacks, mailoutbox
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(recipient=user, message="不会发送")
        raise RuntimeError("the business change failed")
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_it_can_skip_the_email(user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=user, message="仅站内", email=False)
    assert Notification.objects.count() == 1
    assert mailoutbox == []


def test_a_user_without_an_address_gets_only_the_in_app_notice(
    user, django_capture_on_commit_callbacks, mailoutbox
):
    user.email = ""
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=user, message="无邮箱")
    assert Notification.objects.filter(recipient=user).count() == 1
    assert mailoutbox == []


def test_an_inactive_user_is_not_notified(user, django_capture_on_commit_callbacks, mailoutbox):
    user.is_active = False
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(recipient=user, message="已离职") is None
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_a_mail_server_fault_does_not_raise(user, django_capture_on_commit_callbacks):
    with (
        mock.patch("notifications.services.send_mail", side_effect=OSError("smtp down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify(recipient=user, message="邮件服务器故障")
    assert Notification.objects.count() == 1


def test_a_long_message_is_cut_to_fit(user):
    notice = notify(recipient=user, message="长" * 600, email=False)
    notice.refresh_from_db()
    assert len(notice.message) == 500


def test_the_same_dedup_key_notifies_once(user, django_capture_on_commit_callbacks, mailoutbox):
    key = "visit-reminder:42:2026-11-23"
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(recipient=user, message="拜访提醒", dedup_key=key)
        second = notify(recipient=user, message="拜访提醒", dedup_key=key)
    assert first is not None and second is None
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mailoutbox) == 1


def test_a_dedup_clash_keeps_the_surrounding_transaction_usable(user):
    key = "sla:7"
    with transaction.atomic():
        notify(recipient=user, message="超时", dedup_key=key, email=False)
        notify(recipient=user, message="超时", dedup_key=key, email=False)
        notify(recipient=user, message="另一条", email=False)
    assert Notification.objects.count() == 2


def test_the_same_key_for_two_users_notifies_both(manager, manager2):
    notify(recipient=manager, message="提醒", dedup_key="k", email=False)
    notify(recipient=manager2, message="提醒", dedup_key="k", email=False)
    assert Notification.objects.count() == 2


def test_notices_without_a_key_are_never_merged(user):
    notify(recipient=user, message="同一句", email=False)
    notify(recipient=user, message="同一句", email=False)
    assert Notification.objects.count() == 2


def test_notify_many_notifies_each_person_once(manager, manager2):
    sent = notify_many([manager, None, manager2, manager], message="群发", email=False)
    assert sorted(n.recipient_id for n in sent) == sorted([manager.pk, manager2.pk])
    assert Notification.objects.count() == 2


# --- the bell -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [reverse("home"), reverse("accounts:customer_list"), reverse("notifications:list")]
)
def test_the_bell_shows_the_unread_count_on_every_page(client_for, user, manager2, url):
    for index in range(3):
        notify(recipient=user, message=f"未读 {index}", email=False)
    read = notify(recipient=user, message="已读", email=False)
    notification_mark_read(user=user, notification_id=read.pk)
    notify(recipient=manager2, message="别人的", email=False)
    assert bell_count(client_for(user).get(url)) == "3"


def test_the_bell_shows_no_badge_when_all_is_read(client_for, user):
    notify(recipient=user, message="已读", email=False)
    notification_mark_read(user=user)
    assert bell_count(client_for(user).get(reverse("notifications:list"))) is None


def test_anonymous_pages_have_no_bell(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'data-testid="bell"' not in response.content.decode()


# --- the list, reading and opening ----------------------------------------------------------


def test_the_list_shows_only_my_notices(client_for, user, manager2):
    notify(recipient=user, message="我的通知", email=False)
    notify(recipient=manager2, message="别人的通知", email=False)
    page = client_for(user).get(reverse("notifications:list")).content.decode()
    assert "我的通知" in page
    assert "别人的通知" not in page


def test_the_list_can_show_only_unread(client_for, user):
    notify(recipient=user, message="未读的", email=False)
    read = notify(recipient=user, message="读过的", email=False)
    notification_mark_read(user=user, notification_id=read.pk)
    response = client_for(user).get(reverse("notifications:list"), {"unread": "1"})
    assert [n.message for n in response.context["page_obj"]] == ["未读的"]


def test_opening_marks_read_and_follows_the_link(client_for, user):
    notice = notify(recipient=user, message="去看看", link="/customers/5/?tab=managers")
    response = client_for(user).post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/customers/5/?tab=managers"
    notice.refresh_from_db()
    assert notice.is_read


def test_opening_twice_keeps_the_first_read_time(client_for, user):
    notice = notify(recipient=user, message="去看看", link="/customers/5/")
    client = client_for(user)
    client.post(reverse("notifications:open", args=[notice.pk]))
    notice.refresh_from_db()
    first = notice.read_at
    client.post(reverse("notifications:open", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at == first


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "",
    ],
)
def test_opening_never_redirects_off_site(client_for, user, link):
    notice = notify(recipient=user, message="可疑链接", link=link, email=False)
    response = client_for(user).post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list")
    notice.refresh_from_db()
    assert notice.is_read


def test_opening_an_absolute_link_to_this_site_is_allowed(client_for, user):
    notice = notify(
        recipient=user, message="本站", link="http://testserver/customers/", email=False
    )
    response = client_for(user).post(reverse("notifications:open", args=[notice.pk]))
    assert response["Location"] == "http://testserver/customers/"


def test_someone_elses_notice_is_404_and_stays_unread(client_for, user, manager2):
    notice = notify(recipient=manager2, message="别人的", email=False)
    response = client_for(user).post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_read


def test_opening_needs_a_post(client_for, user):
    notice = notify(recipient=user, message="x", email=False)
    assert client_for(user).get(reverse("notifications:open", args=[notice.pk])).status_code == 405


def test_mark_all_read_touches_only_my_notices(client_for, user, manager2):
    for index in range(3):
        notify(recipient=user, message=f"m{index}", email=False)
    theirs = notify(recipient=manager2, message="t", email=False)
    response = client_for(user).post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert not Notification.objects.for_user(user).unread().exists()
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_mark_read_returns_how_many_changed(user):
    for index in range(2):
        notify(recipient=user, message=f"n{index}", email=False)
    assert notification_mark_read(user=user) == 2
    assert notification_mark_read(user=user) == 0


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [("get", "list", []), ("post", "open", [1]), ("post", "mark_all_read", [])],
)
def test_anonymous_visitors_are_sent_to_log_in(client, db, method, name, args):
    response = getattr(client, method)(reverse(f"notifications:{name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_read_time_is_recorded(user):
    notice = notify(recipient=user, message="x", email=False)
    before = timezone.now()
    notification_mark_read(user=user, notification_id=notice.pk)
    notice.refresh_from_db()
    assert notice.read_at >= before
