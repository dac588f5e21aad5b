"""A bad environment value stops the start with a message naming the variable."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_check(**variables):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadrouting.settings", **variables}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysqlx://somewhere/db"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("ROUTING_SWEEP_AFTER_SECONDS", "soon"),
        ("ROUTING_SLA_REMINDER_MINUTES", "-1"),
        ("ROUTING_LEADS_PER_TRANSACTION", "0"),
        ("ROUTING_LEADS_PER_TRANSACTION", "many"),
        ("SITE_URL", "leads.example.com"),
        ("ROUTING_REASSIGN_WHEN_AWAY", "maybe"),
        ("ROUTING_DECISION_TRACE_RETENTION_DAYS", "0"),
        ("ROUTING_DECISION_TRACE_RETENTION_DAYS", "forever"),
        ("AXES_FAILURE_LIMIT", "0"),
        ("INTAKE_API_AUTH_FAILURE_RATE", "lots"),
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
        ("NOTIFICATIONS_RETRY_SECONDS", "soon"),
        ("NOTIFICATIONS_RETRY_SECONDS", "30,-1"),
        ("LANGUAGE_CODE", "fr"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = run_check(**{variable: value})
    assert result.returncode != 0
    assert f"Environment variable {variable}" in result.stderr


def test_the_sites_language_comes_from_the_environment():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.LANGUAGE_CODE)"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadrouting.settings", "LANGUAGE_CODE": "de"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.stdout.split() == ["de"], result.stderr


def test_production_without_secret_key_is_refused():
    result = run_check(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_embedded_default_needs_no_services():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DATABASES['default']['ENGINE'], settings.ROUTING_EMBEDDED)"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "leadrouting.settings", "DATABASE_URL": "", "REDIS_URL": ""},
        capture_output=True, text=True, timeout=60,
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


# The production environment README.md documents, on top of DATABASE_URL and REDIS_URL.
PRODUCTION_ENV = {
    "DEBUG": "false", "ALLOWED_HOSTS": "leads.example.com", "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO=https", "CACHE_URL": "redis://127.0.0.1:6379/7",
    "SITE_URL": "https://leads.example.com",
}


def run_deploy_check(**variables):
    # tests/browser/conftest.py sets DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never has it.
    inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "leadrouting.settings",
           "SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": os.environ["DATABASE_URL"], **variables}
    env = {name: value for name, value in env.items() if value is not None}  # None: the variable is not set
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_settings_pass_the_deploy_check_without_a_warning():
    result = run_deploy_check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://", "filecache:///tmp/leadrouting-cache"])
def test_deploy_check_fails_when_rate_limits_count_in_a_cache_each_process_keeps_alone(cache_url):
    result = run_deploy_check(CACHE_URL=cache_url)
    assert result.returncode != 0
    assert "leads.E001" in result.stderr and "HINT: Set CACHE_URL to a shared cache" in result.stderr, result.stderr


def test_deploy_check_warns_when_email_links_would_point_at_this_machine():
    result = run_deploy_check(SITE_URL=None)
    assert result.returncode != 0
    assert "routing.W001" in result.stderr and "HINT: Set SITE_URL" in result.stderr, result.stderr


def test_the_embedded_demo_passes_the_plain_check_with_its_local_memory_cache():
    result = run_check(DEBUG="true", CACHE_URL="locmemcache://")
    assert result.returncode == 0, result.stderr


def test_the_embedded_demo_keeps_plain_http():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadrouting.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; "
         "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.stdout.split() == ["False", "False", "0"], result.stderr


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit_compilation():
    # A team-scoped page's 4 ms query spent 1.3 s in JIT compilation on a year of data (bench/README.md).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
