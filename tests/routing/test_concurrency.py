"""Real RQ worker processes routing at once: one owner per lead, fair counts, caps never exceeded."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from leads.models import Lead
from routing.models import Assignment, RoutingRule
from tests.factories import PoolFactory, RepFactory, RoutingRuleFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@pytest.fixture
def workers(redis_connection, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "leadrouting.test_settings",
    }
    processes = []
    for number in range(WORKERS):
        with open(tmp_path / f"worker{number}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "routing",
                 "--worker-class", "routing.worker.RoutingWorker"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        process.log_path = log.name
        processes.append(process)
    yield processes
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def create_leads(count, per_transaction=100):
    for start in range(0, count, per_transaction):
        with transaction.atomic():
            for index in range(start, min(count, start + per_transaction)):
                Lead.objects.create(email=f"lead{index}@burst.example", country="DE")


def wait_until_routed(workers, timeout=180):
    deadline = time.monotonic() + timeout
    while Lead.objects.filter(routing_requested_at__isnull=False).exists():
        dead = [p for p in workers if p.poll() is not None]
        assert not dead, Path(dead[0].log_path).read_text()[-3000:]
        assert time.monotonic() < deadline, "leads still waiting for routing"
        time.sleep(0.2)


def assert_one_current_owner_each():
    per_lead = Assignment.objects.filter(is_current=True).values("lead").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_lead)
    assert Lead.objects.filter(owner__isnull=False).count() == Assignment.objects.filter(is_current=True).count()


def test_four_workers_share_2000_leads_evenly_by_round_robin(workers):
    team = TeamFactory(name="Ten reps")
    reps = [RepFactory(teams=[team]) for _ in range(10)]
    RoutingRuleFactory(target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN)

    create_leads(2000)
    wait_until_routed(workers)

    assert Lead.objects.filter(owner__isnull=True).count() == 0
    assert_one_current_owner_each()
    counts = Counter(Lead.objects.values_list("owner", flat=True))
    assert set(counts) == {rep.pk for rep in reps}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert len(set(Assignment.objects.values_list("lead", flat=True))) == 2000


def test_open_lead_cap_holds_under_concurrent_workers(workers):
    team = TeamFactory(name="Capped")
    reps = [RepFactory(teams=[team], max_open_leads=50) for _ in range(10)]
    overflow = PoolFactory(name="Overflow")
    RoutingRuleFactory(priority=1, target_team=team)
    RoutingRuleFactory(priority=2, target_type=RoutingRule.TargetType.POOL, pool=overflow)

    create_leads(2000)
    wait_until_routed(workers)

    counts = Counter(Lead.objects.filter(owner__isnull=False).values_list("owner", flat=True))
    assert counts == {rep.pk: 50 for rep in reps}
    assert Lead.objects.filter(pool=overflow, owner__isnull=True).count() == 1500
    assert_one_current_owner_each()


def test_weighted_one_to_three_gives_exactly_100_and_300_of_400(workers):
    team = TeamFactory(name="Weighted")
    light = RepFactory(teams=[team], weight=Decimal("1"))
    heavy = RepFactory(teams=[team], weight=Decimal("3"))
    RoutingRuleFactory(target_team=team, strategy=RoutingRule.Strategy.WEIGHTED)

    create_leads(400)
    wait_until_routed(workers)

    counts = Counter(Lead.objects.values_list("owner", flat=True))
    assert counts == {light.pk: 100, heavy.pk: 300}
