"""A per-session cache of rendered pages, emptied by any change to the data.

Every page a signed-in user GETs is kept, for PAGE_CACHE_SECONDS, under their session, the
address and the language, and tagged with the *data version*: a token in the shared cache that
every write to the database replaces. A page is served from the cache only while its tag is
still the current version, so no page shows data older than the last change, whoever made it:
a form, Django admin, a Celery job's set-based SQL or a management command.

Writes are seen where they all pass, the database connection (an execute wrapper installed on
every connection of every process): an INSERT, UPDATE, DELETE or DDL statement replaces the
version at once, or, inside a transaction, at its commit (a page rendered before the commit
was stored under the version the commit replaces). Writes that only keep sessions, log-in
attempts and the job heartbeats (IGNORED_TABLES) leave the version alone. What writes around
Django's connection (psycopg's COPY, a restore) calls data_changed() itself; each web process
calls it when it starts, so that no page of the previous release is served after a deploy.

What the data version cannot see, the clock, is bounded instead: the key holds the local date,
and entries expire after PAGE_CACHE_SECONDS (a deadline turning overdue shows at most that
late). The version must live in a cache every process shares (Redis), so the page cache is on
only when there is one, or in a single process (the tests).
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone

VERSION_KEY = "page-cache:data-version"
KEY_PREFIX = "page-cache:page:"
HIT_HEADER = "X-Page-Cache"

# Tables whose writes change no page: sessions (renewed once a minute by IdleSessionMiddleware),
# the log-in throttle's records and the heartbeats (beat's every minute; only /healthz, which
# is JSON, shows them, and the summaries' is written with the summaries).
IGNORED_TABLES = frozenset(
    {"django_session", "axes_accessattempt", "axes_accesslog", "dashboard_heartbeat"}
)
# Caches private to one process: there a write elsewhere could not reach this process's pages.
PROCESS_LOCAL_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)

# Statements that read or only manage the transaction; anything else counts as a write
# (EXPLAIN too: EXPLAIN ANALYZE runs the statement).
_READ_ONLY = re.compile(
    r"[\s(]*(?:SELECT|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET|SHOW|VALUES)\b",
    re.IGNORECASE,
)
_WITH = re.compile(r"[\s(]*WITH\b", re.IGNORECASE)
# In a read-looking statement: a write inside it (WITH … DELETE, SELECT … INTO).
_WRITE_KEYWORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO)\b", re.IGNORECASE)
_ROW_LOCK = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)
_TARGET = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE
)


def is_enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def is_watching() -> bool:
    """Whether writes renew the version: whenever pages are cached here, and whenever the cache
    is shared, since another process with the page cache on may read it."""
    return is_enabled() or settings.CACHES["default"]["BACKEND"] not in PROCESS_LOCAL_CACHES


def changes_data(sql: str) -> bool:
    """Whether a statement may change what a page shows (a false "yes" only costs a miss)."""
    if ";" in sql.strip().rstrip(";"):
        return True  # several statements at once (psycopg allows it without parameters)
    if _READ_ONLY.match(sql) or _WITH.match(sql):
        return bool(_WRITE_KEYWORD.search(_ROW_LOCK.sub("", sql)))
    target = _TARGET.match(sql)
    return not (target and target.group(1).lower() in IGNORED_TABLES)


def data_changed() -> None:
    """Replace the data version: every cached page becomes stale at once."""
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)


def current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # evicted, or a Redis restart: start a new one
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def rows_written(connection) -> None:
    """Renew the version for a write on `connection`: now, or at the commit of its transaction
    (once per transaction; until the commit no other request sees the change)."""
    if not is_watching():
        return
    if not connection.in_atomic_block:
        data_changed()
    elif not any(func is data_changed for _, func, _ in connection.run_on_commit):
        transaction.on_commit(data_changed, using=connection.alias)


def _watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if changes_data(sql):
        rows_written(context["connection"])
    return result


@receiver(connection_created, dispatch_uid="config.page_cache.watch_writes")
def install_write_watch(sender, connection, **kwargs) -> None:
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


class PageCacheMiddleware:
    """Serve a signed-in user's GET from the cache while the data has not changed.

    It sits after the session, locale, CSRF, authentication and messages middleware: the user
    is still authenticated on every request (a deactivated user or a changed password still
    ends the session), and the outer middleware still add their headers and cookies.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        entry_key = getattr(request, "_page_cache_key", None)
        if entry_key and self._storable(request, response):
            entry = (
                request._page_cache_version,
                request.META.get("CSRF_COOKIE"),
                response["Content-Type"],
                response.content,
            )
            # Spread over the second half of the limit: pages first seen together (after a
            # write, at opening time) would otherwise all be rendered again in the same second.
            seconds = settings.PAGE_CACHE_SECONDS * random.uniform(0.5, 1.0)  # noqa: S311
            cache.set(entry_key, entry, timeout=max(1, round(seconds)))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self._cacheable(request):
            return None
        key = self._key(request)
        values = cache.get_many([VERSION_KEY, key])
        version = values.get(VERSION_KEY) or current_version()
        if version is None:  # the cache does not answer: render, keep nothing
            return None
        entry = values.get(key)
        if entry and entry[0] == version and entry[1] == request.META.get("CSRF_COOKIE"):
            response = HttpResponse(entry[3], content_type=entry[2])
            response[HIT_HEADER] = "hit"  # for operators and the production smoke test
            return response
        request._page_cache_key = key
        request._page_cache_version = version
        return None

    @staticmethod
    def _cacheable(request) -> bool:
        if not is_enabled() or request.method != "GET":
            return False
        match = request.resolver_match
        if match is None or "admin" in match.app_names:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not request.session.session_key:
            return False
        # A page that would show a message ("saved", "approved") is one of a kind.
        return len(messages.get_messages(request)) == 0

    @staticmethod
    def _key(request) -> str:
        parts = "\n".join(
            (
                request.session.session_key,
                str(request.user.pk),
                request.LANGUAGE_CODE,
                timezone.localdate().isoformat(),
                request.get_full_path(),
            )
        )
        return KEY_PREFIX + hashlib.sha256(parts.encode()).hexdigest()

    @staticmethod
    def _storable(request, response) -> bool:
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and response.get("Content-Type", "").startswith("text/html")
            # Headers beyond the content type (Cache-Control, Content-Disposition, …) are the
            # view's own decision about this one response.
            and all(name.lower() == "content-type" for name in response.headers)
            and len(messages.get_messages(request)) == 0
        )
