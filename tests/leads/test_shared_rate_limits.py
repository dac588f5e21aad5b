"""Rate limits on the shared Redis cache production needs: two processes (two gunicorn workers) share one count."""

import json
import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.core.cache import caches
from django.db import connection

from leads.models import Lead
from tests.factories import ApiTokenFactory, IntakeFormFactory

# The other process reads what this one committed.
# Limits per day, not per minute: django-ratelimit counts in fixed windows, and a minute's window could end
# between the two processes' requests (a new Django process takes seconds to start), resetting the count.
pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

# Another worker: its own Django, its own cache client, the same database and CACHE_URL; prints the status.
ANOTHER_WORKER = """
import json, sys
import django
django.setup()
from django.test import Client
path, data, content_type, headers = json.loads(sys.argv[1])
print(Client().post(path, data, content_type=content_type, headers=headers).status_code)
"""


@pytest.fixture
def cache_url(settings, redis_connection):
    """CACHE_URL=redis://... read as settings.py reads it: Django's RedisCache (its database emptied first)."""
    url = settings.REDIS_URL
    settings.CACHES = {"default": environ.Env.cache_url_config(url)}
    assert type(caches["default"]).__name__ == "RedisCache"
    return url


def post_from_another_process(cache_url, path, data, *, content_type, headers=None, **variables) -> int:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadrouting.test_settings", "CACHE_URL": cache_url,
           "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict), **variables}
    result = subprocess.run(
        [sys.executable, "-c", ANOTHER_WORKER, json.dumps([path, data, content_type, headers or {}])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_form_submissions_in_two_processes_share_one_limit(client, settings, cache_url):
    settings.INTAKE_FORM_RATE = "2/d"
    IntakeFormFactory(slug="webinar", fields=["email"], required_fields=["email"])
    form = "application/x-www-form-urlencoded"

    here = client.post("/f/webinar/", {"email": "a0@acme.de"}).status_code
    there = post_from_another_process(cache_url, "/f/webinar/", "email=a1%40acme.de", content_type=form,
                                      INTAKE_FORM_RATE="2/d")
    here_again = client.post("/f/webinar/", {"email": "a2@acme.de"}).status_code

    assert [here, there, here_again] == [302, 302, 429]
    assert Lead.objects.count() == 2


def test_api_requests_in_two_processes_share_the_tokens_limit(client, settings, cache_url):
    settings.INTAKE_API_RATE = "2/d"
    token = ApiTokenFactory(source="chat")
    auth = {"Authorization": f"Bearer {token.secret}"}

    there = [post_from_another_process(cache_url, "/api/v1/leads", json.dumps({"email": f"a{i}@acme.de"}),
                                       content_type="application/json", headers=auth, INTAKE_API_RATE="2/d")
             for i in range(2)]
    here = client.post("/api/v1/leads", {"email": "a2@acme.de"}, content_type="application/json", headers=auth)

    assert (there, here.status_code) == ([201, 201], 429)
