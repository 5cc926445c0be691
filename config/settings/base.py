"""Settings shared by every environment; everything that varies comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "bootstrap",
    "axes",
    "csp",
    "accounts",
    "notifications",
    "tiers",
    "visits",
    "complaints",
    "contracts",
    "dashboard",
    "config.apps.DeploymentConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.page_cache.PageCacheMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]


def database_from_env() -> dict:
    """Return the default database: DATABASE_URL, or SQLite tuned for a few writers."""
    db = env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked", ignoring the busy timeout; an IMMEDIATE one takes the write lock at BEGIN and
        # waits up to `timeout` seconds for it.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        # Fail fast when the server is unreachable (healthz answers within a few seconds).
        db.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2)
        )
        db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Uploads: Django only decides memory vs temp file, so the limit is enforced by our forms.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Excel import ---
# Uploads above these limits are refused with a message and change nothing.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
# Parsed uploads wait here between the preview and the commit (one JSON file per upload).
IMPORT_STASH_DIR = Path(env("IMPORT_STASH_DIR", default=str(VAR_DIR / "imports")))
# --- end Excel import ---

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crm@example.com")

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport, which needs
# no server and is enough for one machine.
REDIS_URL = env("REDIS_URL", default="")
# A separate folder per app instance: tests that start `make run` must not share var/broker.
BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Broadcast (pidbox) exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
# Jobs under faults: Celery acknowledges a message before its task runs unless told otherwise;
# here it is acknowledged only after its task finished, a worker killed mid-task puts it back,
# and each worker takes one message at a time. Every job must therefore be idempotent. The Redis
# visibility timeout must exceed the longest job and any countdown; a job that outlives it is
# delivered a second time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A separate queue name lets tests (and several deployments on one Redis) keep apart.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_TASK_TIME_LIMIT + 10 * 60
    CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = 2
    CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] = 5
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {
    "pool-return-daily": {
        "task": "accounts.tasks.pool_return_run_task",
        "schedule": crontab(hour=6, minute=30),
    },
    # Visit reminders, care tasks of the coming week, archive-check reminders.
    "visits-daily": {
        "task": "visits.tasks.visits_daily_run_task",
        "schedule": crontab(hour=7, minute=0),
    },
}
# How many rows a periodic job handles per statement (config.jobs.chunks).
JOB_CHUNK_SIZE = env.int("JOB_CHUNK_SIZE", default=2000)
# Where the pool's return rules look for the latest contact with a customer besides the
# manager taking it over: functions returning subqueries of dates per OuterRef("pk").
POOL_CONTACT_SOURCES: list[str] = ["visits.selectors.pool_contact_sources"]
# contracts: expire ended contracts and send the 60/30/7-day reminders, daily (Asia/Shanghai).
CELERY_BEAT_SCHEDULE["contracts-daily"] = {
    "task": "contracts.tasks.contracts_daily_job_task",
    "schedule": crontab(hour=6, minute=45),
}
# receivables: due reminders (7 days before, on the day) daily; the heads' digest on Mondays.
CELERY_BEAT_SCHEDULE["receivables-daily"] = {
    "task": "contracts.tasks.receivables_send_reminders_task",
    "schedule": crontab(hour=7, minute=0),
}
# complaints: mark missed deadlines, escalate once, remind follow-ups, every 15 minutes.
CELERY_BEAT_SCHEDULE["complaints-check-deadlines"] = {
    "task": "complaints.tasks.complaint_check_deadlines_task",
    "schedule": crontab(minute="*/15"),
}

# --- tiers (quarterly re-grading) ---
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["tiers-quarterly-regrade"] = {
    # 02:00 Asia/Shanghai on the first day of each quarter, for the quarter just ended.
    "task": "tiers.tasks.grading_run_compute_task",
    "schedule": crontab(minute=0, hour=2, day_of_month=1, month_of_year="1,4,7,10"),
}
TIERS_APPEAL_WINDOW_DAYS = env.int("TIERS_APPEAL_WINDOW_DAYS", default=14)
# --- end tiers ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Security settings that hold in every environment; production.py adds the HTTPS-only ones.
# Content-Security-Policy (django-csp 4): scripts, styles and everything else from our own
# origin only; no inline script or style, no outside origin. Bootstrap's CSS draws its icons
# (select arrows, close buttons) as data: SVG images, hence "data:" for images only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
REFERRER_POLICY = "same-origin"

# Log-in throttling (django-axes): 5 failures for one username from one IP lock that pair for
# an hour; an admin unlocks earlier by deleting the access attempt in Django admin (or
# `manage.py axes_reset_username USER`). A successful log-in clears the failures.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# The cache: Redis, shared by every web process, when there is one (CACHE_URL, by default the
# broker's REDIS_URL); otherwise Django's per-process memory, enough for `make run`'s one web
# process. It holds sessions (read from it, written through to the database) and each user's
# roles; a Redis outage only turns its reads into misses (config.cache).
CACHE_URL = env("CACHE_URL", default=REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="crm"),
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Rendered pages of signed-in users, kept per session until any write to the database
# (config.page_cache). Needs a cache every process shares, so it is off without Redis.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60 if CACHE_URL else 0)

# Sessions end after SESSION_COOKIE_AGE of inactivity: IdleSessionMiddleware renews the expiry
# at most once a minute (instead of SESSION_SAVE_EVERY_REQUEST's write on every request).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 60 * 60)
SESSION_RENEW_INTERVAL = 60
SESSION_COOKIE_HTTPONLY = True

# Beat's heartbeat: a cheap job that records when the schedule last reached a worker, which
# /healthz reports as an age. The interval is shortened by `make prod-smoke`.
CELERY_BEAT_SCHEDULE["heartbeat"] = {
    "task": "dashboard.tasks.heartbeat_task",
    "schedule": env.float("CELERY_HEARTBEAT_SECONDS", default=60.0),
}
# The sales summary and early-warning list the reports and home pages read are rebuilt this
# often (and after a grading run is published); pages show their age.
CELERY_BEAT_SCHEDULE["summaries"] = {
    "task": "dashboard.tasks.summaries_refresh_task",
    "schedule": env.float("SUMMARIES_REFRESH_SECONDS", default=300.0),
}
# Jobs whose sending failed because the broker was down are re-sent by this one.
CELERY_BEAT_SCHEDULE["resend-pending-tasks"] = {
    "task": "notifications.tasks.pending_tasks_resend_task",
    "schedule": env.float("CELERY_RESEND_SECONDS", default=60.0),
}
