"""The page cache (config.page_cache): a page is served again only while no data has changed,
and only to the session, language and day it was rendered for."""

from __future__ import annotations

import datetime
import time

import pytest
import time_machine
from django.contrib.messages import SUCCESS
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Customer
from config import page_cache
from notifications.models import Notification
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 60


@pytest.fixture
def customer(east, manager):
    return CustomerFactory(name="远航物流", department=east, primary_manager=manager)


def get(client: Client, url: str):
    """GET and return (response, number of SQL queries it ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_a_page_seen_again_is_served_from_the_cache(client_for, manager, customer):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    first, queries_rendering = get(client, url)
    again, queries_cached = get(client, url)
    assert again.content == first.content
    assert again.context is None  # no template was rendered
    assert again["X-Page-Cache"] == "hit" and "X-Page-Cache" not in first
    # Only what every request does: the user is still read, so a deactivated user is out.
    assert queries_cached <= 1 < queries_rendering
    assert again["X-Frame-Options"] == "DENY"  # the outer middleware still add their headers
    assert "Content-Security-Policy" in again


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: Customer.objects.filter(pk=c.pk).update(name="新名称"), id="update"),
        pytest.param(lambda c: (setattr(c, "name", "新名称"), c.save()), id="save"),
        pytest.param(
            lambda c: connection.cursor().execute(
                "UPDATE accounts_customer SET name = %s WHERE id = %s", ["新名称", c.pk]
            ),
            id="raw SQL, as the jobs write",
        ),
    ],
)
def test_any_write_makes_every_cached_page_stale(client_for, manager, customer, change):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    assert "远航物流" in get(client, url)[0].text
    change(customer)
    response, queries = get(client, url)
    assert "新名称" in response.text and "远航物流" not in response.text
    assert response.context is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_through_a_form_is_seen_on_the_next_page(client_for, manager):
    Notification.objects.create(recipient=manager, message="合同已提交审批")
    client = client_for(manager)
    assert get(client, "/notifications/?unread=1")[0].context["page_obj"].paginator.count == 1
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    page = get(client, "/notifications/?unread=1")[0]
    assert page.context is not None and page.context["page_obj"].paginator.count == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_in_a_transaction_replaces_the_version_again_at_commit(east):
    customer = CustomerFactory(department=east)
    before = page_cache.current_version()
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(name="甲")
        Customer.objects.filter(pk=customer.pk).update(name="乙")
        during = page_cache.current_version()
        queued = [func for _, func, _ in connection.run_on_commit]
    # Once, at commit: a page another request rendered from the rows before the commit was
    # stored under the version the commit replaces.
    assert queued.count(page_cache.data_changed) == 1
    assert during == before != page_cache.current_version()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_write_changes_nothing(east):
    customer = CustomerFactory(department=east)
    before = page_cache.current_version()
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(name="甲")
        transaction.set_rollback(True)
    assert page_cache.current_version() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sessions_and_reads_leave_the_version_alone(customer):
    before = page_cache.current_version()
    session = SessionStore()
    session["x"] = 1
    session.save()
    session["x"] = 2
    session.save()
    list(Customer.objects.all())
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
    assert page_cache.current_version() == before


@pytest.mark.parametrize(
    ("sql", "changes"),
    [
        ('SELECT "accounts_customer"."id" FROM "accounts_customer"', False),
        ("  select 1", False),
        ('(SELECT "a" FROM "visits_plannedvisit") UNION ALL (SELECT "b" FROM "x")', False),
        ('SAVEPOINT "s1"', False),
        ('RELEASE SAVEPOINT "s1"', False),
        ("WITH scope AS MATERIALIZED (SELECT 1) SELECT * FROM scope", False),
        ('INSERT INTO "accounts_customer" ("name") VALUES (%s)', True),
        ("insert or replace into accounts_customersearch (customer_id) select 1", True),
        ('UPDATE "django_session" SET "expire_date" = %s', False),
        ('INSERT INTO "django_session" ("session_key") VALUES (%s)', False),
        ('DELETE FROM "django_session" WHERE "session_key" = %s', False),
        ('DELETE FROM "dashboard_monthlysales"', True),
        ("WITH moved AS (DELETE FROM t RETURNING *) SELECT * FROM moved", True),
        ('UPDATE "accounts_customer" SET "updated_at" = %s', True),
        ("TRUNCATE dashboard_risksignal", True),
        ('CREATE INDEX "x" ON "accounts_customer" ("name")', True),
        ('SELECT "id" FROM "accounts_customer" WHERE "id" = %s FOR UPDATE', False),
        ('SELECT "id" FROM "accounts_customer" FOR NO KEY UPDATE OF "accounts_customer"', False),
        ('INSERT INTO "dashboard_heartbeat" ("name", "beat_at") VALUES (%s, %s)', False),
        ("EXPLAIN ANALYZE UPDATE accounts_customer SET name = name", True),
        ("SELECT 1; DELETE FROM accounts_contact", True),
        ("SET search_path = public; UPDATE accounts_customer SET name = name", True),
        ("SELECT * INTO accounts_copy FROM accounts_customer", True),
        ("WITH s AS (SELECT 1) MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", True),
        ("SELECT 1;", False),
    ],
)
def test_which_statements_count_as_writes(sql, changes):
    assert page_cache.changes_data(sql) is changes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_shared_cache_writes_count_even_where_pages_are_not_cached(
    settings, monkeypatch, east
):
    """A worker or command run with PAGE_CACHE_SECONDS=0 still tells the web processes."""
    settings.PAGE_CACHE_SECONDS = 0
    monkeypatch.setattr(page_cache, "PROCESS_LOCAL_CACHES", frozenset())
    before = page_cache.current_version()
    CustomerFactory(department=east)
    assert page_cache.current_version() != before


def test_a_starting_web_process_serves_no_page_of_the_code_before_it(client_for, manager, customer):
    import importlib

    import config.wsgi

    client = client_for(manager)
    get(client, f"/customers/{customer.pk}/")
    importlib.reload(config.wsgi)
    assert get(client, f"/customers/{customer.pk}/")[0].context is not None


def test_every_connection_watches_its_writes():
    connection.ensure_connection()
    assert page_cache._watch_writes in connection.execute_wrappers


def test_each_session_has_its_own_pages(client_for, manager, manager2, head, customer):
    url = "/customers/"
    mine = get(client_for(manager), url)[0]
    theirs = get(client_for(manager2), url)[0]
    assert "远航物流" in mine.text and "远航物流" not in theirs.text
    assert theirs.context is not None
    # The same user in a second browser renders the page for that session.
    assert get(client_for(manager), url)[0].context is not None
    assert "远航物流" in get(client_for(head), url)[0].text


def test_each_language_has_its_own_pages(client_for, manager, customer):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    chinese = get(client, url)[0]
    client.cookies["django_language"] = "en"
    english = get(client, url)[0]
    assert english.context is not None and english.text != chinese.text
    assert english["Content-Language"] == "en"


def test_a_new_day_renders_the_page_again(manager, customer):
    url = f"/customers/{customer.pk}/"
    evening = timezone.localtime().replace(hour=23, minute=59, second=0)
    with time_machine.travel(evening, tick=False):
        client = Client()
        client.force_login(manager)
        get(client, url)
        assert get(client, url)[0].context is None
    with time_machine.travel(evening + datetime.timedelta(minutes=2), tick=False):
        assert get(client, url)[0].context is not None


def test_a_page_with_a_message_is_neither_served_from_nor_kept_in_the_cache(
    client_for, manager, customer
):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    get(client, url)
    # A message waiting for the next page, as after a form's redirect.
    stored = HttpResponse()
    CookieStorage(RequestFactory().get(url))._store([Message(SUCCESS, "已保存")], stored)
    client.cookies["messages"] = stored.cookies["messages"].value
    shown = get(client, url)[0]
    assert shown.context is not None and "已保存" in shown.text
    after = get(client, url)[0]
    assert after.context is None and "已保存" not in after.text  # the page from before


def test_a_page_is_served_only_with_the_csrf_cookie_it_was_rendered_for(
    client_for, manager, customer
):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    get(client, url)
    assert get(client, url)[0].context is None
    client.cookies["csrftoken"] = "x" * 32
    assert get(client, url)[0].context is not None


def test_deactivating_a_user_ends_their_cached_pages(client_for, manager, customer):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    get(client, url)
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    cache.set(page_cache.VERSION_KEY, "as if the change had not been seen", timeout=None)
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_what_is_never_cached(client, client_for, admin_user, manager, customer):
    managers_client = client_for(manager)
    # Downloads, and anything that is not a whole HTML page.
    managers_client.get("/customers/export.xlsx")
    admins = client_for(admin_user)
    admins.get("/admin/accounts/customer/")
    assert get(admins, "/admin/accounts/customer/")[0].context is not None
    # Anonymous visitors (the log-in page carries its own CSRF token).
    client.get("/login/")
    assert get(client, "/login/")[0].context is not None
    assert not [key for key in cache._cache if page_cache.KEY_PREFIX in key]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_off_without_a_shared_cache(settings, client_for, manager, customer):
    settings.PAGE_CACHE_SECONDS = 0
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    cache.delete(page_cache.VERSION_KEY)
    get(client, url)
    assert get(client, url)[0].context is not None
    Customer.objects.filter(pk=customer.pk).update(name="新名称")  # and no version is kept
    assert cache.get(page_cache.VERSION_KEY) is None


def test_a_lost_version_starts_a_new_one(client_for, manager, customer):
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    get(client, url)
    cache.delete(page_cache.VERSION_KEY)  # evicted, or Redis restarted empty
    assert get(client, url)[0].context is not None
    assert get(client, url)[0].context is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_users_roles_come_from_the_user_not_the_page(client_for, manager, customer):
    """Taking away a role is a write: the next page is rendered with the new rights."""
    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    get(client, url)
    manager.groups.clear()
    assert client.get(url).context is not None


def test_users_get_no_other_users_page_by_address(client_for, manager, other_manager, customer):
    get(client_for(manager), f"/customers/{customer.pk}/")
    assert client_for(other_manager).get(f"/customers/{customer.pk}/").status_code in (403, 404)


def test_entries_expire_within_the_limit_at_spread_times(
    client_for, manager, customer, monkeypatch
):
    monkeypatch.setattr(page_cache.random, "uniform", lambda low, high: low)
    client = client_for(manager)
    started = time.time()
    get(client, f"/customers/{customer.pk}/")
    (expires,) = [at for key, at in cache._expire_info.items() if page_cache.KEY_PREFIX in key]
    assert 29 <= expires - started <= 31  # half of PAGE_CACHE_SECONDS, the earliest of the spread


def test_without_an_answering_cache_pages_are_rendered_and_not_kept(
    client_for, manager, customer, monkeypatch
):
    monkeypatch.setattr(page_cache, "current_version", lambda: None)
    cache.delete(page_cache.VERSION_KEY)
    client = client_for(manager)
    for _ in range(2):
        assert get(client, f"/customers/{customer.pk}/")[0].context is not None
    assert not [key for key in cache._cache if page_cache.KEY_PREFIX in key]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_page_rendered_while_the_data_changed_is_never_served(client_for, manager, customer):
    """A write committed while a page is being rendered (another user's save) leaves that
    page stored under the version from before the write: it is rendered again next time."""
    from django.test.signals import template_rendered

    written = []

    def write_once(**kwargs):
        if not written:
            written.append(Customer.objects.filter(pk=customer.pk).update(name="渲染中改名"))

    client = client_for(manager)
    url = f"/customers/{customer.pk}/"
    template_rendered.connect(write_once)
    try:
        get(client, url)
    finally:
        template_rendered.disconnect(write_once)
    assert written == [1]
    again = get(client, url)[0]
    assert again.context is not None and "渲染中改名" in again.text
