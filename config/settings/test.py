"""Test settings: fast hashing, in-memory mail, tasks run eagerly unless a test says otherwise."""

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
LANGUAGE_CODE = "zh-hans"
ALLOWED_HOSTS = ["*"]
WHITENOISE_AUTOREFRESH = True
# Tests log in with client.force_login()/client.login(), which pass no request to
# authenticate(); django-axes is switched on by the tests that check the lockout.
AXES_ENABLED = False
# One process: the memory cache, emptied before each test (tests/conftest.py), so that no
# cached session or role outlives the rows of the test that cached it.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The page cache is off, so that each page test (query counts above all) measures the page
# itself; tests/test_page_cache.py switches it on.
PAGE_CACHE_SECONDS = 0

# A file, not SQLite's shared in-memory database: concurrency tests need real locking with
# the busy timeout, which shared-cache in-memory databases do not honour.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test run, so that two runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")  # noqa: F405
    }
