"""A bad environment value stops the start with a message naming the variable."""

import os
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
        ("SITE_URL", "leads.example.com"),
        ("ROUTING_REASSIGN_WHEN_AWAY", "maybe"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = run_check(**{variable: value})
    assert result.returncode != 0
    assert f"Environment variable {variable}" in result.stderr


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
