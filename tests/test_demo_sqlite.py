"""bin/run-demo's database: SQLite, no Redis. Every migration applies there and the pages the demo prints answer.

The suite runs on PostgreSQL; without this test a PostgreSQL-only migration operation or query broke
the one-command demo unnoticed (AddIndexConcurrently crashed `migrate`, percentile_disc the experiment page).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from routing.models import RoutingExperiment

experiment = RoutingExperiment.objects.get()
pages = {
    "manager": [reverse("routing:dashboard") + "?period=" + period for period in ("today", "7d", "30d", "12m")] + [
        reverse("routing:experiment_results", args=[experiment.pk]), reverse("routing:reassignments"),
        reverse("routing:reassignments_csv"), "/dashboard/trends/", "/capacity/", "/fairness/", "/pools/ageing/"],
    "rep": [reverse("routing:queue")],
    "admin": ["/admin/leads/lead/", "/admin/leads/lead/?q=acme", "/admin/routing/assignment/",
              "/admin/routing/routingdecision/", "/admin/routing/routingrule/"],
}
for username, urls in pages.items():
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    for url in urls:
        print(client.get(url).status_code, username, url)
"""


def manage(*args, env, stdin=None):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_the_demo_migrates_loads_and_serves_its_pages_on_sqlite(tmp_path):
    # As bin/run-demo runs it: manage.py's own settings, DEBUG by default, no test settings.
    env = {name: value for name, value in os.environ.items() if name not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", REDIS_URL="", EMAIL_URL="dummymail://")

    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    loaded = manage("load_demo", "--url", "http://127.0.0.1:8000/", env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    probed = manage("shell", env=env, stdin=PROBE)

    assert probed.returncode == 0, probed.stderr[-2000:]
    answers = [line.split(" ", 2) for line in probed.stdout.splitlines() if line[:3].isdigit()]
    assert len(answers) == 17
    assert [(status, url) for status, _user, url in answers if status != "200"] == []
